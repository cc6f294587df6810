//! A brief in-process memory of bearer tokens for the PostgreSQL store: an API request's token
//! and user are read from the database at most every [`FRESH`] per token instead of on every
//! request (a round trip to the server that, sixteen at once at the morning rush, costs more than
//! the claim they are for). A token read more than [`FRESH`] ago is still accepted while a
//! background read refreshes it; one read more than [`TTL`] ago is read again before answering.
//! So a token revoked, a user disabled or a password changed through *another* instance is
//! refused there within [`TTL`]; through this instance at once, since every such change through
//! the store forgets the whole memory. A token is remembered with its expiry, which is checked
//! on every use against the service's clock.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::users::User;

/// A remembered token is used without a read for this long.
pub const FRESH: Duration = Duration::from_secs(1);
/// ... and at most this long, with a refresh in the background after [`FRESH`].
pub const TTL: Duration = Duration::from_secs(2);
/// More tokens than this and the memory starts over.
const MAX_TOKENS: usize = 10_000;

/// What the memory knows of a token.
pub enum Cached {
    /// Use this user.
    Fresh(User),
    /// Use this user, and refresh the token in the background (the caller is the one to).
    Refresh(User, u64),
    /// Read it; remember the result with this generation.
    Miss(u64),
}

struct Entry {
    user: User,
    /// The token's expiry (ms since the epoch), if it has one.
    expires_ms: Option<i64>,
    at: Instant,
    refreshing: bool,
}

/// Tokens by hash, and a generation that every forgetting bumps (a read that began before a
/// change must not put back what it read).
#[derive(Default)]
pub struct TokenCache {
    inner: Mutex<(u64, HashMap<String, Entry>)>,
}

impl TokenCache {
    /// What to do with the token `hash` at `now_ms` (the service's clock).
    pub fn get(&self, hash: &str, now_ms: i64) -> Cached {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let generation = g.0;
        let Some(e) = g.1.get_mut(hash) else {
            return Cached::Miss(generation);
        };
        let age = e.at.elapsed();
        if age >= TTL || e.expires_ms.is_some_and(|x| x <= now_ms) {
            g.1.remove(hash);
            return Cached::Miss(generation);
        }
        if age >= FRESH && !e.refreshing {
            e.refreshing = true;
            return Cached::Refresh(e.user.clone(), generation);
        }
        Cached::Fresh(e.user.clone())
    }

    /// Remembers what a read begun at `generation` found: the user, or that the token is not
    /// valid (`None`: forgotten).
    pub fn put(&self, hash: &str, found: Option<(User, Option<i64>)>, generation: u64) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if g.0 != generation {
            return;
        }
        match found {
            Some((user, expires_ms)) => {
                if g.1.len() >= MAX_TOKENS && !g.1.contains_key(hash) {
                    g.1.clear();
                }
                let entry = Entry {
                    user,
                    expires_ms,
                    at: Instant::now(),
                    refreshing: false,
                };
                g.1.insert(hash.to_owned(), entry);
            }
            None => {
                g.1.remove(hash);
            }
        }
    }

    /// A refresh that failed: the next use after [`FRESH`] tries again.
    pub fn refresh_failed(&self, hash: &str) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = g.1.get_mut(hash) {
            e.refreshing = false;
        }
    }

    /// Forgets every token (a user or token changed).
    pub fn forget_all(&self) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += 1;
        g.1.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::Role;

    fn user() -> User {
        User {
            id: 1,
            login: "ivanova".into(),
            display_name: "Иванова".into(),
            role: Role::Operator,
            password_hash: String::new(),
            disabled: false,
            created_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_token_is_remembered_until_it_expires_or_anything_changes() {
        let c = TokenCache::default();
        let Cached::Miss(g) = c.get("h", 0) else {
            panic!("an unknown token is read")
        };
        c.put("h", Some((user(), Some(1_000))), g);
        assert!(matches!(c.get("h", 999), Cached::Fresh(u) if u.login == "ivanova"));
        assert!(
            matches!(c.get("h", 1_000), Cached::Miss(_)),
            "expired by the clock"
        );
        let Cached::Miss(g) = c.get("h", 0) else {
            panic!()
        };
        c.put("h", Some((user(), None)), g);
        c.forget_all();
        assert!(
            matches!(c.get("h", 0), Cached::Miss(_)),
            "forgotten on a change"
        );
    }

    #[test]
    fn a_read_begun_before_a_change_does_not_put_back_the_old_user() {
        let c = TokenCache::default();
        let Cached::Miss(g) = c.get("h", 0) else {
            panic!()
        };
        c.forget_all();
        c.put("h", Some((user(), None)), g);
        assert!(matches!(c.get("h", 0), Cached::Miss(_)));
    }

    #[test]
    fn after_fresh_one_use_refreshes_and_the_rest_go_on() {
        let c = TokenCache::default();
        let Cached::Miss(g) = c.get("h", 0) else {
            panic!()
        };
        c.put("h", Some((user(), None)), g);
        c.inner.lock().unwrap().1.get_mut("h").unwrap().at = Instant::now() - FRESH;
        assert!(matches!(c.get("h", 0), Cached::Refresh(..)));
        assert!(
            matches!(c.get("h", 0), Cached::Fresh(_)),
            "one refresh at a time"
        );
        c.refresh_failed("h");
        assert!(
            matches!(c.get("h", 0), Cached::Refresh(..)),
            "a failed refresh is retried"
        );
        c.inner.lock().unwrap().1.get_mut("h").unwrap().at = Instant::now() - TTL;
        assert!(
            matches!(c.get("h", 0), Cached::Miss(_)),
            "too old: read again"
        );
        let Cached::Miss(g) = c.get("h", 0) else {
            panic!()
        };
        c.put("h", None, g);
        assert!(
            matches!(c.get("h", 0), Cached::Miss(_)),
            "a token found invalid is not kept"
        );
    }
}
