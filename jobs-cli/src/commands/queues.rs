//! `pause` and `resume`: whether workers claim the jobs of a queue.

use serde_json::json;

use crate::database::Store;
use crate::exit::Failure;
use crate::output::Output;

pub(super) async fn pause(store: &Store, queue: &str, pause: bool, out: Output) -> Result<(), Failure> {
    if queue.trim().is_empty() {
        return Err(Failure::Usage("name the queue".into()));
    }
    let inspect = store.inspect()?;
    if pause {
        inspect.pause(queue).await.map_err(|e| store.failure("pausing the queue", e))?;
    } else {
        inspect.resume(queue).await.map_err(|e| store.failure("resuming the queue", e))?;
    }
    if out.json {
        return out.json(&json!({ "queue": queue, "paused": pause }));
    }
    out.text(&if pause {
        format!("Paused queue {queue}: it keeps accepting jobs, and no worker claims them until `resume {queue}`.\n")
    } else {
        format!("Resumed queue {queue}: workers claim its jobs again.\n")
    })
}
