//! The decisions of a unique enqueue ([`FlowStore::enqueue_unique`](crate::adapter::FlowStore::enqueue_unique))
//! that do not depend on the store: which jobs of a batch are duplicates of a stored holder or of
//! an earlier job of the batch, and which are stored (and take their keys).
//!
//! A store makes a [`UniquePlan`], locks its [`keys`](UniquePlan::keys), finds which stored job
//! holds each one (if any) and [`decide`](UniquePlan::decide)s, stores the jobs
//! [`stored`](UniquePlan::stored), records the [`keys_taken`](UniquePlan::keys_taken), and answers
//! with the [`outcomes`](UniquePlan::outcomes).

use std::collections::{HashMap, HashSet};

use crate::contract::{Error, JobState, NewJob, UniqueOutcome, Uniqueness};

/// The stored job that took a unique key, whose time (its [`Uniqueness::until`]) has not passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyHolder {
    /// Its Active Job `job_id`.
    pub job_id: String,
    /// Its backend id.
    pub provider_job_id: Option<String>,
    /// Its state now: it holds the key against a job whose [`Uniqueness::states`] name it.
    pub state: JobState,
}

/// What becomes of one job of the batch.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Planned {
    /// Stored: the job takes its key, if it has one.
    Store,
    /// A duplicate of the stored job holding its key.
    Held(KeyHolder),
    /// A duplicate of the job of the batch at this index, which is stored.
    SameBatch(usize),
}

/// Which jobs of a unique enqueue are stored and which are duplicates.
///
/// ```
/// use jobs_core::adapter::{JobState, KeyHolder, NewJob, UniqueOutcome, UniquePlan, Uniqueness};
/// # fn job(id: &str) -> NewJob {
/// #     let json = format!(r#"{{"job_class":"Sync","job_id":"{id}","arguments":[]}}"#);
/// #     NewJob::new(jobs_core::JobData::from_json(&json).unwrap()).unwrap()
/// # }
/// let key = |key: &str| Some(Uniqueness { key: key.into(), states: vec![JobState::Ready], until: None });
/// let jobs = [job("a"), job("b"), job("c")];
/// let unique = [key("k1"), key("k1"), key("k2")];
/// let plan = UniquePlan::new(&jobs, &unique).unwrap();
/// assert_eq!(plan.keys(), ["k1", "k2"]);
/// // The store locks the keys and finds that a ready job took k2:
/// let holder = KeyHolder { job_id: "z".into(), provider_job_id: Some("9".into()), state: JobState::Ready };
/// let plan = plan.decide(|k| (k == "k2").then(|| holder.clone()));
/// assert_eq!(plan.stored().collect::<Vec<_>>(), [0]);
/// let outcomes = plan.outcomes(vec![Some("1".into())]);
/// assert_eq!(outcomes[0], UniqueOutcome::Stored(Some("1".into())));
/// assert_eq!(outcomes[1], UniqueOutcome::Duplicate { job_id: "a".into(), provider_job_id: Some("1".into()) });
/// assert_eq!(outcomes[2], UniqueOutcome::Duplicate { job_id: "z".into(), provider_job_id: Some("9".into()) });
/// ```
#[derive(Clone, Debug)]
pub struct UniquePlan<'a> {
    jobs: &'a [NewJob],
    unique: &'a [Option<Uniqueness>],
    planned: Vec<Planned>,
}

impl<'a> UniquePlan<'a> {
    /// The plan of the batch `jobs`, whose uniqueness rules are `unique` (same index; `None`: no
    /// key), before the holders are known: every job would be stored. An error when `unique` does
    /// not have one entry per job.
    pub fn new(jobs: &'a [NewJob], unique: &'a [Option<Uniqueness>]) -> Result<UniquePlan<'a>, Error> {
        if jobs.len() != unique.len() {
            return Err(Error::Config(format!(
                "a unique enqueue was given {} jobs but {} uniqueness rules: give one (or None) per job",
                jobs.len(),
                unique.len()
            )));
        }
        Ok(UniquePlan { jobs, unique, planned: vec![Planned::Store; jobs.len()] })
    }

    /// The distinct keys of the batch, in the order they first appear: the ones to lock and look up.
    pub fn keys(&self) -> Vec<&'a str> {
        let mut seen = HashSet::new();
        self.unique.iter().flatten().map(|rule| rule.key.as_str()).filter(|key| seen.insert(*key)).collect()
    }

    /// Decides, given `holder`, the stored job that took a key (if any, its time not passed): a
    /// job is a duplicate of it while it is in one of the job's own [`Uniqueness::states`],
    /// except a job whose `job_id` is the holder's own (a retry), which is stored and takes the
    /// key over; of several jobs of the batch with one key, the first decides and the others
    /// are its duplicates (or the holder's, when it is one).
    pub fn decide(mut self, mut holder: impl FnMut(&str) -> Option<KeyHolder>) -> UniquePlan<'a> {
        let mut first: HashMap<&str, usize> = HashMap::new();
        for (index, (job, rule)) in self.jobs.iter().zip(self.unique).enumerate() {
            let Some(rule) = rule else { continue };
            self.planned[index] = match first.get(rule.key.as_str()) {
                Some(&earlier) => match &self.planned[earlier] {
                    Planned::Held(holder) => Planned::Held(holder.clone()),
                    _ => Planned::SameBatch(earlier),
                },
                None => {
                    first.insert(&rule.key, index);
                    match holder(&rule.key) {
                        Some(holder) if holder.job_id != job.data().job_id && rule.states.contains(&holder.state) => {
                            Planned::Held(holder)
                        }
                        _ => Planned::Store,
                    }
                }
            };
        }
        self
    }

    /// The indexes of the jobs to store, in batch order.
    pub fn stored(&self) -> impl Iterator<Item = usize> + '_ {
        self.planned.iter().enumerate().filter(|(_, p)| **p == Planned::Store).map(|(index, _)| index)
    }

    /// The keys the stored jobs take: `(index of the job, its rule)`, in batch order.
    pub fn keys_taken(&self) -> impl Iterator<Item = (usize, &'a Uniqueness)> + '_ {
        self.stored().filter_map(|index| self.unique[index].as_ref().map(|rule| (index, rule)))
    }

    /// The answer for every job of the batch, given the backend ids of the stored jobs (in the
    /// order of [`UniquePlan::stored`]; a missing one is `None`).
    pub fn outcomes(&self, ids: Vec<Option<String>>) -> Vec<UniqueOutcome> {
        let id_of: HashMap<usize, String> =
            self.stored().zip(ids).filter_map(|(index, id)| id.map(|id| (index, id))).collect();
        let id = |index: &usize| id_of.get(index).cloned();
        self.planned
            .iter()
            .enumerate()
            .map(|(index, planned)| match planned {
                Planned::Store => UniqueOutcome::Stored(id(&index)),
                Planned::Held(holder) => UniqueOutcome::Duplicate {
                    job_id: holder.job_id.clone(),
                    provider_job_id: holder.provider_job_id.clone(),
                },
                Planned::SameBatch(first) => UniqueOutcome::Duplicate {
                    job_id: self.jobs[*first].data().job_id.clone(),
                    provider_job_id: id(first),
                },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::JobData;

    fn job(id: &str) -> NewJob {
        let json = format!(r#"{{"job_class":"Sync","job_id":"{id}","arguments":[]}}"#);
        NewJob::new(JobData::from_json(&json).unwrap()).unwrap()
    }

    fn rule(key: &str, states: &[JobState]) -> Option<Uniqueness> {
        Some(Uniqueness { key: key.into(), states: states.to_vec(), until: None })
    }

    fn holder(job_id: &str, state: JobState) -> KeyHolder {
        KeyHolder { job_id: job_id.into(), provider_job_id: Some("7".into()), state }
    }

    fn duplicate(job_id: &str, id: Option<&str>) -> UniqueOutcome {
        UniqueOutcome::Duplicate { job_id: job_id.into(), provider_job_id: id.map(Into::into) }
    }

    #[test]
    fn a_holder_holds_the_key_only_in_the_states_the_enqueued_job_names() {
        let jobs = [job("a")];
        let unique = [rule("k", &[JobState::Scheduled])];
        let plan = UniquePlan::new(&jobs, &unique).unwrap().decide(|_| Some(holder("h", JobState::Running)));
        assert_eq!(plan.outcomes(vec![Some("1".into())]), [UniqueOutcome::Stored(Some("1".into()))]);
        assert_eq!(plan.keys_taken().map(|(index, rule)| (index, rule.key.as_str())).collect::<Vec<_>>(), [(0, "k")]);
    }

    #[test]
    fn the_batch_follows_its_first_job_with_a_key() {
        let states = [JobState::Ready, JobState::Running];
        let jobs = [job("h"), job("b"), job("c"), job("d")];
        let unique =
            [rule("taken-over", &states), rule("taken-over", &states), rule("held", &states), rule("held", &states)];
        let plan = UniquePlan::new(&jobs, &unique).unwrap().decide(|key| match key {
            "taken-over" => Some(holder("h", JobState::Running)),
            _ => Some(holder("z", JobState::Ready)),
        });
        assert_eq!(plan.stored().collect::<Vec<_>>(), [0], "the holder's own job_id takes its key over");
        assert_eq!(
            plan.outcomes(vec![Some("1".into())]),
            [
                UniqueOutcome::Stored(Some("1".into())),
                duplicate("h", Some("1")),
                duplicate("z", Some("7")),
                duplicate("z", Some("7")),
            ]
        );
    }

    #[test]
    fn a_rule_per_job_is_required() {
        let jobs = [job("a"), job("b")];
        let error = UniquePlan::new(&jobs, &[None]).unwrap_err();
        assert!(error.to_string().contains("2 jobs but 1 uniqueness rules"), "{error}");
    }
}
