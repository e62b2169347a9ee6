//! A user's own account: password change, data, deletion, activity history (§2.1).
