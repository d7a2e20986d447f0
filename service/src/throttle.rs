//! Login throttling: after too many failed logins for one email address, further attempts
//! for it are refused for a while, before any password is checked.
//!
//! The counts live in this process's memory: each instance throttles on its own, and a
//! restart forgets them. A count shared by every instance would need a table written on
//! each failed login; that is not built.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Above this many tracked addresses, expired entries are dropped on the next failure.
const PRUNE_ABOVE: usize = 10_000;

/// How many failures lock an address out, and for how long.
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

#[derive(Debug, Default)]
pub struct LoginThrottle {
    settings: ThrottleSettings,
    by_email: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug)]
struct Failures {
    count: u32,
    first_at: Instant,
    locked_until: Option<Instant>,
}

impl LoginThrottle {
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            settings,
            by_email: Mutex::default(),
        }
    }

    /// # Errors
    /// How long to wait, when the address is locked out now.
    pub fn check(&self, email: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let by_email = self.lock();
        match by_email
            .get(email)
            .and_then(|failures| failures.locked_until)
        {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    /// Counts a failed login; the one that reaches the limit starts the lockout.
    pub fn record_failure(&self, email: &str) {
        let now = Instant::now();
        let mut by_email = self.lock();
        if by_email.len() > PRUNE_ABOVE {
            by_email.retain(|_, failures| !self.expired(failures, now));
        }

        let failures = by_email.entry(email.to_owned()).or_insert(Failures {
            count: 0,
            first_at: now,
            locked_until: None,
        });
        if self.expired(failures, now) {
            *failures = Failures {
                count: 0,
                first_at: now,
                locked_until: None,
            };
        }
        failures.count += 1;
        if failures.count >= self.settings.max_failures {
            failures.locked_until = Some(now + self.settings.lockout);
        }
    }

    /// A successful login forgets the address's failures.
    pub fn record_success(&self, email: &str) {
        self.lock().remove(email);
    }

    /// Failures count within one lockout period of the first; a lockout ends on its own.
    fn expired(&self, failures: &Failures, now: Instant) -> bool {
        match failures.locked_until {
            Some(until) => until <= now,
            None => now.duration_since(failures.first_at) > self.settings.lockout,
        }
    }

    /// The map stays usable even if a thread panicked while holding it: the worst left
    /// behind is a count one off.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
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
    fn the_limit_th_failure_locks_the_address_out() {
        let throttle = throttle(3);

        throttle.record_failure("ada@example.com");
        throttle.record_failure("ada@example.com");
        assert!(throttle.check("ada@example.com").is_ok());
        throttle.record_failure("ada@example.com");

        let wait = throttle.check("ada@example.com").expect_err("locked out");
        assert!(wait > Duration::from_secs(55) && wait <= Duration::from_secs(60));
        assert!(throttle.check("bob@example.com").is_ok());
    }

    #[test]
    fn a_success_forgets_earlier_failures() {
        let throttle = throttle(2);

        throttle.record_failure("ada@example.com");
        throttle.record_success("ada@example.com");
        throttle.record_failure("ada@example.com");

        assert!(throttle.check("ada@example.com").is_ok());
    }
}
