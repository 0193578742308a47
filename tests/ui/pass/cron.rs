use jobs::prelude::*;

#[job(cron = "0 9 * * *")]
async fn morning_report() {}

#[job(cron = "*/5 * * * * *", queue = "ticks", priority = 5)]
async fn every_five_seconds(ctx: &JobContext) {
    let _ = ctx.recurring().map(|run| run.run_at);
}

#[job(cron = "@hourly")]
async fn hourly() {}

#[job(cron = "30 2 * * * Europe/Paris")]
async fn in_paris() {}

#[job(cron = "every 5 minutes")]
async fn phrase() {}

fn main() {
    assert_eq!(<MorningReport as Job>::CRON, Some("0 9 * * *"));
    assert_eq!(<EveryFiveSeconds as Job>::CRON, Some("*/5 * * * * *"));
    let _ = (Hourly {}, InParis {}, Phrase {});
}
