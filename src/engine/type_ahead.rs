//! Type-ahead: keys pressed while the line speaks an announcement, kept (bounded) for the next
//! question, as callers who know the menu expect.

use std::collections::VecDeque;
use std::time::Duration;

/// Keys waiting for the next question, oldest first, with when each was pressed.
#[derive(Debug, Clone, Default)]
pub(crate) struct TypeAhead {
    keys: VecDeque<(char, Duration)>,
    cap: usize,
}

impl TypeAhead {
    /// Keeps at most `cap` keys; 0 keeps none (type-ahead off).
    pub(crate) fn new(cap: usize) -> Self {
        TypeAhead {
            keys: VecDeque::with_capacity(cap),
            cap,
        }
    }

    /// Keeps key `d` pressed at `at`; false when it was dropped (full, or type-ahead off).
    pub(crate) fn push(&mut self, d: char, at: Duration) -> bool {
        if self.keys.len() >= self.cap {
            return false;
        }
        self.keys.push_back((d, at));
        true
    }

    /// The oldest key kept.
    pub(crate) fn pop(&mut self) -> Option<(char, Duration)> {
        self.keys.pop_front()
    }

    /// Forgets every key (a key that missed, a hand-off).
    pub(crate) fn clear(&mut self) {
        self.keys.clear();
    }

    /// Keys kept now.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when no key waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_keys_in_order_up_to_its_bound() {
        let mut t = TypeAhead::new(2);
        assert!(t.push('1', Duration::ZERO));
        assert!(t.push('2', Duration::from_secs(1)));
        assert!(
            !t.push('3', Duration::from_secs(2)),
            "the third key is dropped"
        );
        assert_eq!(t.pop(), Some(('1', Duration::ZERO)));
        assert_eq!(t.len(), 1);
        t.clear();
        assert!(t.is_empty());
    }

    #[test]
    fn zero_bound_keeps_nothing() {
        let mut t = TypeAhead::new(0);
        assert!(!t.push('1', Duration::ZERO));
        assert!(t.is_empty());
    }
}
