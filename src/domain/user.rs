//! Users of Perezvon (operators, supervisors, administrators) and what each role may do.

use super::named_enum;

named_enum! {
    /// What a user may do. Operators work the callback list; supervisors also see statistics and
    /// every operator; administrators also manage users and settings.
    pub enum Role: "role" {
        Operator = "operator",
        Supervisor = "supervisor",
        Admin = "admin",
    }
}

impl Role {
    /// True when this role may act for other operators and see hotline-wide data.
    pub fn is_supervisor(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}

/// A login name: 2–64 characters of ASCII letters, digits, `.`, `_`, `-`.
pub fn validate_login(login: &str) -> Result<(), String> {
    let ok_len = (2..=64).contains(&login.len());
    let ok_chars = login
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok_len && ok_chars {
        Ok(())
    } else {
        Err(format!(
            "login `{login}` must be 2–64 characters of letters, digits, '.', '_' or '-'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_reject_unknown() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        let e = "root".parse::<Role>().unwrap_err().to_string();
        assert!(e.contains("root") && e.contains("supervisor"), "{e}");
        assert!(Role::Admin.is_supervisor() && !Role::Operator.is_supervisor());
    }

    #[test]
    fn logins() {
        assert!(validate_login("ivanova.m").is_ok());
        assert!(validate_login("a").is_err());
        assert!(validate_login("иванова").is_err());
        assert!(validate_login("a b").is_err());
    }
}
