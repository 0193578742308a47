//! A continuable import: `prepare`, then `rows` with a cursor, then `finish`.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use jobs_core::encoding::{ArgumentsReader, EncodeContext, to_argument};
use jobs_core::{Continuable, Error, Job, JobContext};

use super::Probe;

/// What the imports did: the rows saved, the steps that ran, each run's resumption count.
#[derive(Debug, Default)]
pub(crate) struct Imports {
    rows: Mutex<Vec<u64>>,
    steps: Mutex<Vec<String>>,
    runs: Mutex<Vec<u32>>,
}

impl Imports {
    /// Every row saved, in the order saved.
    pub(crate) fn rows(&self) -> Vec<u64> {
        self.rows.lock().unwrap().clone()
    }

    /// How many rows were saved.
    pub(crate) fn row_count(&self) -> usize {
        self.rows.lock().unwrap().len()
    }

    /// How many times step `name` ran (started or resumed).
    pub(crate) fn step_runs(&self, name: &str) -> usize {
        self.steps.lock().unwrap().iter().filter(|s| *s == name).count()
    }

    /// Each run's `resumptions`, in order.
    pub(crate) fn runs(&self) -> Vec<u32> {
        self.runs.lock().unwrap().clone()
    }
}

/// Saves rows `0..rows`, one checkpoint per row, pausing a millisecond every 50 rows so that a
/// shutdown lands mid-step. Resumes without waiting.
#[derive(Debug)]
pub(crate) struct Import {
    pub(crate) rows: u64,
}

impl Job for Import {
    const NAME: &'static str = "Conformance::Import";
    const CONTINUABLE: Option<Continuable> = Some(Continuable::new().resume_wait(Duration::ZERO));
    type Output = Result<(), Error>;

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![to_argument(Self::NAME, "rows", &self.rows)?])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        let mut reader = ArgumentsReader::new(Self::NAME, arguments, 1)?;
        Ok(Import { rows: reader.next("rows")? })
    }

    async fn perform(self, ctx: JobContext) -> Result<Self::Output, Error> {
        let probe = ctx.state::<Probe>()?;
        let imports = &probe.imports;
        imports.runs.lock().unwrap().push(ctx.resumptions());
        let ran = |name: &str| imports.steps.lock().unwrap().push(name.to_owned());
        Ok(async {
            ctx.step("prepare", |_| async {
                ran("prepare");
                Ok::<_, Error>(())
            })
            .await?;
            ctx.step("rows", |step| async move {
                ran("rows");
                let mut row = step.cursor::<u64>()?.unwrap_or(0);
                while row < self.rows {
                    imports.rows.lock().unwrap().push(row);
                    row += 1;
                    step.set(row).await?;
                    if row % 50 == 0 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                Ok(())
            })
            .await?;
            ctx.step("finish", |_| async {
                ran("finish");
                Ok(())
            })
            .await
        }
        .await)
    }
}
