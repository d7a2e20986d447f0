//! `tally migrate …` and `tally users …`.

use anyhow::{Context, Result, anyhow};
use sea_orm::DatabaseConnection;
use service::admin::{self, Actor};
use service::database::{self, DatabaseSettings, MigrationAction};
use service::passwords::Passwords;
use service::users::{self, Email, NewUser, Password};

use crate::cli::{DatabaseArgs, MigrateCommand, UsersCommand};

pub async fn migrate(args: &DatabaseArgs, command: MigrateCommand) -> Result<()> {
    let (db, settings) = connect(args).await?;
    let action = match command {
        MigrateCommand::Status => return print_status(&db).await,
        MigrateCommand::Up => MigrationAction::Up,
        MigrateCommand::Down => MigrationAction::Down,
        MigrateCommand::Fresh => MigrationAction::Fresh,
    };
    database::migrate(&db, &settings, action)
        .await
        .context("migration failed")
}

async fn print_status(db: &DatabaseConnection) -> Result<()> {
    let migrations = database::migration_status(db)
        .await
        .context("cannot read migrations")?;
    for (name, applied) in migrations {
        println!("{name}: {}", if applied { "applied" } else { "pending" });
    }
    Ok(())
}

pub async fn users(args: &DatabaseArgs, command: UsersCommand) -> Result<()> {
    let (db, settings) = connect(args).await?;

    let outcome = match command {
        UsersCommand::CreateAdmin { email, hashing } => {
            let passwords = Passwords::new(hashing.cost()).map_err(anyhow::Error::msg)?;
            let new = new_admin(&email)?;
            // The first admin may come before the server ever ran and made the schema.
            database::migrate(&db, &settings, MigrationAction::Up)
                .await
                .context("cannot apply migrations")?;
            users::register(&db, &passwords, new).await
        }
        UsersCommand::Promote { id } => admin::set_admin(&db, Actor::Operator, id, true).await,
        UsersCommand::Demote { id } => admin::set_admin(&db, Actor::Operator, id, false).await,
        UsersCommand::Ban { id, reason } => admin::ban(&db, Actor::Operator, id, &reason).await,
        UsersCommand::Unban { id } => admin::unban(&db, Actor::Operator, id).await,
    };
    let user = outcome.map_err(describe)?;

    let state = if user.is_active { "active" } else { "banned" };
    let role = if user.is_admin { "admin" } else { "user" };
    println!("user {} <{}>: {state} {role}", user.id, user.email);
    Ok(())
}

/// The new admin's email from the flag and password from TALLY_ADMIN_PASSWORD or a prompt.
fn new_admin(email: &str) -> Result<NewUser> {
    let email = Email::parse(email).map_err(|message| anyhow!("--email {message}"))?;
    let password = match std::env::var("TALLY_ADMIN_PASSWORD") {
        Ok(password) => password,
        Err(_) => rpassword::prompt_password("Password for the new admin: ")
            .context("set TALLY_ADMIN_PASSWORD, or run this in a terminal to be asked")?,
    };
    let password = Password::parse(&password).map_err(|message| anyhow!("password {message}"))?;

    Ok(NewUser {
        email,
        password,
        full_name: None,
        is_admin: true,
    })
}

/// Words for an operator instead of an HTTP code.
fn describe(err: service::Error) -> anyhow::Error {
    match err {
        service::Error::NotFound => anyhow!("no user has this id"),
        service::Error::EmailTaken => anyhow!("a user with this email exists already"),
        service::Error::Invalid { field, message } => anyhow!("{field} {message}"),
        other => anyhow::Error::new(other),
    }
}

async fn connect(args: &DatabaseArgs) -> Result<(DatabaseConnection, DatabaseSettings)> {
    let settings = args.settings().map_err(anyhow::Error::msg)?;
    let db = database::connect(&settings)
        .await
        .context("cannot connect to the database")?;
    Ok((db, settings))
}
