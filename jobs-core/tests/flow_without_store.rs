//! Flow control on an adapter that keeps none: a worker refuses classes whose limits it could
//! not hold, and a unique enqueue is `NotSupported`, while jobs without flow control go on as
//! before.

use jobs_core::adapter::{Adapter, Backend, Capabilities, NewJob};
use jobs_core::adapters::MemoryAdapter;
use jobs_core::encoding::EncodeContext;
use jobs_core::{
    BoxFuture, ConcurrencyLimit, Error, FlowControl, Job, JobContext, Registry, Runtime, UniqueJob, Worker,
};
use serde_json::Value;

/// The memory adapter with its flow store hidden, as an adapter written before flow control.
#[derive(Clone, Debug, Default)]
struct NoFlow(MemoryAdapter);

impl Adapter for NoFlow {
    fn name(&self) -> &str {
        "NoFlow"
    }

    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }

    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        self.0.enqueue_all(jobs)
    }

    fn backend(&self) -> Option<&dyn Backend> {
        self.0.backend()
    }
}

macro_rules! job {
    ($ty:ident, $name:literal, $flow:expr) => {
        struct $ty;

        impl Job for $ty {
            const NAME: &'static str = $name;
            const FLOW: FlowControl = $flow;
            type Output = ();

            fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
                Ok(vec![])
            }

            fn from_arguments(_: Vec<Value>) -> Result<Self, Error> {
                Ok($ty)
            }

            async fn perform(self, _ctx: JobContext) -> Result<(), Error> {
                Ok(())
            }
        }
    };
}

job!(Charge, "Charge", FlowControl { concurrency: Some(ConcurrencyLimit::to(1)), ..FlowControl::NONE });
job!(Refresh, "Refresh", FlowControl { unique: Some(UniqueJob::DEFAULT), ..FlowControl::NONE });
job!(Plain, "Plain", FlowControl::NONE);

fn runtime(register: impl FnOnce(&mut Registry)) -> Runtime {
    let mut registry = Registry::new();
    register(&mut registry);
    Runtime::builder().adapter(NoFlow::default()).registry(registry).build().unwrap()
}

#[tokio::test]
async fn a_worker_refuses_limited_classes_without_a_flow_store() {
    let runtime = runtime(|r| {
        r.register::<Charge>().unwrap().register::<Plain>().unwrap();
    });
    let error = Worker::builder().runtime(&runtime).build().unwrap_err();
    assert!(matches!(error, Error::NotSupported { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("Charge") && message.contains("concurrency limits"), "{message}");
}

#[tokio::test]
async fn unique_jobs_need_a_flow_store_at_enqueue_and_other_jobs_do_not() {
    let runtime = runtime(|r| {
        r.register::<Refresh>().unwrap().register::<Plain>().unwrap();
    });
    // Uniqueness is decided at enqueue: a worker has nothing to enforce for it.
    let worker = Worker::builder().runtime(&runtime).build();
    assert!(worker.is_ok(), "{:?}", worker.err());
    let error = runtime.perform_later(Refresh).await.unwrap_err();
    assert!(matches!(error, Error::NotSupported { .. }), "{error}");
    assert!(error.to_string().contains("unique jobs"), "{error}");
    let plain = runtime.perform_later(Plain).await.unwrap();
    assert!(!plain.is_duplicate() && plain.provider_job_id.is_some());
}
