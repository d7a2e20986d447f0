//! Login throttling: after too many login attempts for one email address without a
//! success, further attempts for it are refused for a while, before any password is
//! checked.
//!
//! The counts live in this process's memory: each instance throttles on its own, and a
//! restart forgets them. A count shared by every instance would need a table written on
//! each failed login; that is not built.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most addresses tracked at once; past it the oldest is forgotten, so a flood of
/// made-up addresses cannot grow the map without bound.
const MAX_TRACKED: usize = 50_000;

/// How many login attempts lock an address out, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleSettings {
    pub max_failures: u32,
    pub lockout: Duration,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lockout: Duration::from_secs(300),
        }
    }
}

/// Counts login attempts per email address and refuses them past the limit.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    settings: ThrottleSettings,
    by_email: Mutex<HashMap<String, Attempts>>,
}

#[derive(Debug)]
struct Attempts {
    count: u32,
    first_at: Instant,
    locked_until: Option<Instant>,
}

impl LoginThrottle {
    /// A throttle that has seen no attempts yet.
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            settings,
            by_email: Mutex::default(),
        }
    }

    /// Counts an attempt for `email` before its password is checked, or refuses it.
    ///
    /// The attempt is counted up front, in the same step as the check, so that a burst of
    /// concurrent guesses cannot all pass the check before any of them is counted: at most
    /// `max_failures` passwords are checked per lockout period. A success then forgets the
    /// count ([`LoginThrottle::succeeded`]).
    ///
    /// # Errors
    /// How long to wait, when the address is locked out now.
    pub fn attempt(&self, email: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut by_email = self.lock();
        if let Some(until) = by_email
            .get(email)
            .and_then(|attempts| attempts.locked_until)
            && until > now
        {
            return Err(until - now);
        }
        if !by_email.contains_key(email) {
            self.make_room(&mut by_email, now);
        }

        let fresh = || Attempts {
            count: 0,
            first_at: now,
            locked_until: None,
        };
        let attempts = by_email.entry(email.to_owned()).or_insert_with(fresh);
        if self.expired(attempts, now) {
            *attempts = fresh();
        }
        attempts.count += 1;
        if attempts.count >= self.settings.max_failures {
            attempts.locked_until = Some(now + self.settings.lockout);
        }
        Ok(())
    }

    /// A successful login forgets the address's attempts.
    pub fn succeeded(&self, email: &str) {
        self.lock().remove(email);
    }

    fn make_room(&self, by_email: &mut HashMap<String, Attempts>, now: Instant) {
        if by_email.len() < MAX_TRACKED {
            return;
        }
        by_email.retain(|_, attempts| !self.expired(attempts, now));
        if by_email.len() < MAX_TRACKED {
            return;
        }
        // Forget the oldest address that is not locked out: dropping a lockout would let a
        // flood of made-up addresses free the very address it protects.
        let oldest = |locked: bool| {
            by_email
                .iter()
                .filter(|(_, attempts)| attempts.locked_until.is_some() == locked)
                .min_by_key(|(_, attempts)| attempts.first_at)
                .map(|(email, _)| email.clone())
        };
        if let Some(email) = oldest(false).or_else(|| oldest(true)) {
            by_email.remove(&email);
        }
    }

    /// Attempts count within one lockout period of the first; a lockout ends on its own.
    fn expired(&self, attempts: &Attempts, now: Instant) -> bool {
        match attempts.locked_until {
            Some(until) => until <= now,
            None => now.duration_since(attempts.first_at) > self.settings.lockout,
        }
    }

    /// The map stays usable even if a thread panicked while holding it: the worst left
    /// behind is a count one off.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Attempts>> {
        self.by_email
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(max_failures: u32) -> LoginThrottle {
        LoginThrottle::new(ThrottleSettings {
            max_failures,
            lockout: Duration::from_secs(60),
        })
    }

    #[test]
    fn only_the_allowed_number_of_attempts_get_through() {
        let throttle = throttle(3);

        let outcomes: Vec<bool> = (0..5)
            .map(|_| throttle.attempt("ada@example.com").is_ok())
            .collect();

        assert_eq!(outcomes, [true, true, true, false, false]);
        let wait = throttle.attempt("ada@example.com").expect_err("locked out");
        assert!(wait > Duration::from_secs(55) && wait <= Duration::from_secs(60));
        assert!(throttle.attempt("bob@example.com").is_ok());
    }

    #[test]
    fn a_success_forgets_earlier_attempts() {
        let throttle = throttle(2);

        assert!(throttle.attempt("ada@example.com").is_ok());
        throttle.succeeded("ada@example.com");
        assert!(throttle.attempt("ada@example.com").is_ok());

        assert!(throttle.attempt("ada@example.com").is_ok());
    }

    #[test]
    fn a_full_map_forgets_an_unlocked_address_before_a_locked_one() {
        let throttle = throttle(2);
        for _ in 0..2 {
            assert!(throttle.attempt("victim@example.com").is_ok());
        }

        for n in 0..MAX_TRACKED + 10 {
            let _ = throttle.attempt(&format!("made-up{n}@example.com"));
        }

        assert!(
            throttle.attempt("victim@example.com").is_err(),
            "the lockout was dropped"
        );
    }

    #[test]
    fn the_map_never_holds_more_than_its_cap() {
        let throttle = throttle(5);

        for n in 0..MAX_TRACKED + 10 {
            let _ = throttle.attempt(&format!("user{n}@example.com"));
        }

        assert_eq!(throttle.lock().len(), MAX_TRACKED);
    }
}
