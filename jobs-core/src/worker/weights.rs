//! Queue weights: before each claim, order the queues by a weighted random draw, as Sidekiq's
//! `-q critical,3 -q default,1` does, so that a heavy queue is served first more often and a
//! light one is still served first some of the time (no starvation).

use std::borrow::Cow;

/// The order in which a worker hands its queues to [`Backend::claim`](crate::adapter::Backend::claim).
#[derive(Debug, Clone)]
pub(super) enum QueueOrder {
    /// Always the configured order: a queue is served only when those before it are empty.
    Strict(Vec<String>),
    /// Each queue appears `weight` times in `draw`, which is shuffled before every claim and
    /// deduplicated, so a queue comes first with probability `weight / total`.
    Weighted { queues: Vec<String>, draw: Vec<usize> },
}

impl QueueOrder {
    /// Weighted queues; every weight must be at least 1 and every queue named once.
    pub(super) fn weighted(weights: Vec<(String, u32)>) -> Result<Self, String> {
        if weights.is_empty() {
            return Err("a worker needs at least one queue".into());
        }
        let mut queues = Vec::with_capacity(weights.len());
        let mut draw = Vec::new();
        for (index, (queue, weight)) in weights.into_iter().enumerate() {
            if queue == "*" {
                return Err("`*` cannot be weighted: name the queues to weigh".into());
            }
            if weight == 0 {
                return Err(format!("queue `{queue}` has weight 0: weights must be at least 1"));
            }
            if queues.contains(&queue) {
                return Err(format!("queue `{queue}` is weighted twice: name each queue once"));
            }
            queues.push(queue);
            draw.extend(std::iter::repeat_n(index, weight as usize));
        }
        Ok(QueueOrder::Weighted { queues, draw })
    }

    /// The queues, in the configured order (for logs and the process list).
    pub(super) fn queues(&self) -> &[String] {
        match self {
            QueueOrder::Strict(queues) | QueueOrder::Weighted { queues, .. } => queues,
        }
    }

    /// The queues as a log line shows them: `a, b`, or `a:3, b:1` when weighted.
    pub(super) fn describe(&self) -> String {
        match self {
            QueueOrder::Strict(queues) => queues.join(", "),
            QueueOrder::Weighted { queues, draw } => {
                let weight = |index| draw.iter().filter(|&&i| i == index).count();
                let named: Vec<String> =
                    queues.iter().enumerate().map(|(index, queue)| format!("{queue}:{}", weight(index))).collect();
                named.join(", ")
            }
        }
    }

    /// The order for the next claim: borrowed as is when strict, freshly drawn when weighted.
    pub(super) fn next(&self) -> Cow<'_, [String]> {
        match self {
            QueueOrder::Strict(queues) => Cow::Borrowed(queues),
            QueueOrder::Weighted { queues, draw } => {
                let mut draw = draw.clone();
                fastrand::shuffle(&mut draw);
                let mut order: Vec<String> = Vec::with_capacity(queues.len());
                let mut seen = vec![false; queues.len()];
                for index in draw {
                    if !std::mem::replace(&mut seen[index], true) {
                        order.push(queues[index].clone());
                    }
                }
                Cow::Owned(order)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weighted(pairs: &[(&str, u32)]) -> Result<QueueOrder, String> {
        QueueOrder::weighted(pairs.iter().map(|(q, w)| (q.to_string(), *w)).collect())
    }

    #[test]
    fn a_heavy_queue_comes_first_in_proportion_and_a_light_one_is_never_starved() {
        let order = weighted(&[("critical", 3), ("default", 1)]).unwrap();
        let mut first = [0usize; 2];
        for _ in 0..4000 {
            let next = order.next();
            assert_eq!(next.len(), 2, "every queue is in every draw: {next:?}");
            first[usize::from(next[0] == "default")] += 1;
        }
        // Expect 3000 / 1000; the bounds are many standard deviations (~27) wide.
        assert!((2700..=3300).contains(&first[0]), "{first:?}");
        assert!((700..=1300).contains(&first[1]), "{first:?}");
    }

    #[test]
    fn strict_order_is_the_configured_order_every_time() {
        let order = QueueOrder::Strict(vec!["a".into(), "b".into()]);
        assert!(matches!(order.next(), Cow::Borrowed(q) if q == ["a", "b"]));
    }

    #[test]
    fn bad_weights_say_what_is_wrong() {
        assert!(weighted(&[("a", 0)]).unwrap_err().contains("weight 0"));
        assert!(weighted(&[("a", 1), ("a", 2)]).unwrap_err().contains("twice"));
        assert!(weighted(&[("*", 1)]).unwrap_err().contains("`*`"));
        assert!(weighted(&[]).unwrap_err().contains("at least one queue"));
    }
}
