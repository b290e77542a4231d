//! How a check judges one clause. Every check names the clause it judges, so that a
//! failure is charged to that clause alone:
//! - [`check!`] and [`check_eq!`] record a broken expectation and let the case go on
//!   with its other checks;
//! - [`ensure!`], [`ensure_eq!`], [`ensure_ne!`] and [`Or::or_fail`] end the case, for
//!   an expectation whose failure leaves nothing for the checks after it to judge (no
//!   answer, no body to read). The case's clauses that no failed check named are then
//!   NOT_RUN, with the failure as the reason.
//!
//! A harness-side problem ([`Or::or_error`]) names no clause: it is the case's ERROR.

/// How a case ended when it did not pass.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The subject broke an expectation of `clause`, and the case cannot go on.
    #[error("{clause}: {why}")]
    Fail {
        /// The clause the failed check judges.
        clause: &'static str,
        /// What was expected and observed.
        why: String,
    },
    /// The harness could not judge (its environment failed, a fault would not apply).
    #[error("{0}")]
    Error(String),
    /// The subject lacks an optional part of the contract that the case judges (the
    /// streaming route): its clauses are UNIMPLEMENTED, which withholds no certificate.
    #[error("{0}")]
    Unimplemented(String),
}

impl CaseError {
    /// A failed check of `clause`.
    pub fn fail(clause: &'static str, why: impl Into<String>) -> Self {
        CaseError::Fail {
            clause,
            why: why.into(),
        }
    }
}

/// What a case returns.
pub type CaseResult = Result<(), CaseError>;

/// Ends the case, charging the clause, unless the condition holds.
macro_rules! ensure {
    ($clause:expr, $cond:expr $(,)?) => {
        let holds: bool = $cond;
        if !holds {
            return Err($crate::certify::CaseError::fail(
                $clause,
                format!("expected {}", stringify!($cond)),
            ));
        }
    };
    ($clause:expr, $cond:expr, $($arg:tt)+) => {
        let holds: bool = $cond;
        if !holds {
            return Err($crate::certify::CaseError::fail($clause, format!($($arg)+)));
        }
    };
}

/// Ends the case, charging the clause, unless the two are equal; shows both.
macro_rules! ensure_eq {
    ($clause:expr, $a:expr, $b:expr $(,)?) => {
        $crate::certify::ensure_eq!($clause, $a, $b, "{}", stringify!($a))
    };
    ($clause:expr, $a:expr, $b:expr, $($arg:tt)+) => {
        match (&$a, &$b) {
            (a, b) => {
                if !(*a == *b) {
                    return Err($crate::certify::CaseError::fail(
                        $clause,
                        format!("{}: expected {:?}, observed {:?}", format!($($arg)+), b, a),
                    ));
                }
            }
        }
    };
}

/// Ends the case, charging the clause, if the two are equal.
macro_rules! ensure_ne {
    ($clause:expr, $a:expr, $b:expr $(,)?) => {
        $crate::certify::ensure_ne!($clause, $a, $b, "{}", stringify!($a))
    };
    ($clause:expr, $a:expr, $b:expr, $($arg:tt)+) => {
        if $a == $b {
            return Err($crate::certify::CaseError::fail(
                $clause,
                format!("{}: expected anything but {:?}", format!($($arg)+), $b),
            ));
        }
    };
}

/// Records that one clause's expectation did not hold, and goes on: the named clause
/// (one of those the case judges) is charged with it, and the checks after this one
/// still run.
macro_rules! check {
    ($ctx:expr, $clause:expr, $cond:expr $(,)?) => {
        $crate::certify::check!($ctx, $clause, $cond, "expected {}", stringify!($cond))
    };
    ($ctx:expr, $clause:expr, $cond:expr, $($arg:tt)+) => {
        let holds: bool = $cond;
        if !holds {
            $ctx.broke($clause, format!($($arg)+));
        }
    };
}

/// [`check!`] for two values that must be equal, showing both.
macro_rules! check_eq {
    ($ctx:expr, $clause:expr, $a:expr, $b:expr $(,)?) => {
        $crate::certify::check_eq!($ctx, $clause, $a, $b, "{}", stringify!($a))
    };
    ($ctx:expr, $clause:expr, $a:expr, $b:expr, $($arg:tt)+) => {
        match (&$a, &$b) {
            (a, b) => {
                if !(*a == *b) {
                    $ctx.broke(
                        $clause,
                        format!("{}: expected {:?}, observed {:?}", format!($($arg)+), b, a),
                    );
                }
            }
        }
    };
}

pub(crate) use {check, check_eq, ensure, ensure_eq, ensure_ne};

/// Turns a missing value or an error into the case's end: [`Or::or_fail`] when the
/// subject gave it (charged to the clause that says it must), [`Or::or_error`] when
/// the harness's own side did.
pub trait Or<T> {
    /// The subject did not give what `clause` says it must.
    fn or_fail(self, clause: &'static str, what: &str) -> Result<T, CaseError>;
    /// The harness could not do its part.
    fn or_error(self, what: &str) -> Result<T, CaseError>;
}

impl<T, E: std::fmt::Display> Or<T> for Result<T, E> {
    fn or_fail(self, clause: &'static str, what: &str) -> Result<T, CaseError> {
        self.map_err(|e| CaseError::fail(clause, format!("{what}: {e}")))
    }
    fn or_error(self, what: &str) -> Result<T, CaseError> {
        self.map_err(|e| CaseError::Error(format!("{what}: {e}")))
    }
}

impl<T> Or<T> for Option<T> {
    fn or_fail(self, clause: &'static str, what: &str) -> Result<T, CaseError> {
        self.ok_or_else(|| CaseError::fail(clause, format!("{what}: absent")))
    }
    fn or_error(self, what: &str) -> Result<T, CaseError> {
        self.ok_or_else(|| CaseError::Error(format!("{what}: absent")))
    }
}
