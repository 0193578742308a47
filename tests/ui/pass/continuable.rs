use jobs::prelude::*;
use jobs::{Error, StepOptions};

#[job(continuable)]
async fn import(file: String, ctx: &JobContext) -> Result<(), Error> {
    ctx.step("download", |_| async { Ok::<_, Error>(()) }).await?;
    ctx.step_with("rows", StepOptions::new().start(0u64), |step| async move {
        let mut row = step.cursor::<u64>()?.unwrap_or(0);
        while row < file.len() as u64 {
            row += 1;
            step.set(row).await?;
        }
        Ok(())
    })
    .await
}

#[job(continuable(
    max_resumptions = 3,
    resume_wait = "1s",
    resume_errors_after_advancing = false,
    checkpoint_interval = "250ms"
))]
async fn export(ctx: JobContext) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    ctx.step_with("all", StepOptions::new().isolated(), |step| async move { step.checkpoint().await.map_err(Into::into) })
        .await
}

fn main() {
    assert!(<Import as Job>::CONTINUABLE.is_some());
    assert_eq!(<Export as Job>::CONTINUABLE.and_then(|c| c.get_max_resumptions()), Some(3));
}
