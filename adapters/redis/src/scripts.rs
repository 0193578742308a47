//! The Lua scripts (in `lua/`), each `common.lua` followed by its own body; sent by SHA
//! (EVALSHA), loaded again automatically when the server has forgotten them (after a restart).

use std::sync::LazyLock;

use redis::Script;

macro_rules! script {
    ($name:ident, $file:literal) => {
        pub(crate) static $name: LazyLock<Script> = LazyLock::new(|| {
            Script::new(concat!(include_str!("lua/common.lua"), include_str!(concat!("lua/", $file))))
        });
    };
}

script!(ENQUEUE, "enqueue.lua");
script!(CLAIM, "claim.lua");
script!(NEXT_DUE, "next_due.lua");
script!(COMPLETE, "complete.lua");
script!(COMPLETE_REQUEUED, "complete_requeued.lua");
script!(FAIL, "fail.lua");
script!(RELEASE, "release.lua");
script!(HEARTBEAT, "heartbeat.lua");
script!(PROGRESS, "progress.lua");
script!(RESCUE, "rescue.lua");
script!(FIND, "find.lua");
script!(WALK, "walk.lua");
script!(ACT, "act.lua");
script!(COUNTS, "counts.lua");
script!(BEAT, "beat.lua");
script!(LEAVE, "leave.lua");
script!(PROCESSES, "processes.lua");
script!(SIGNAL, "signal.lua");
script!(HISTORY, "history.lua");
script!(HISTORY_READ, "history_read.lua");
script!(RECURRING_TICK, "recurring_tick.lua");
script!(RECURRING_PAUSE, "recurring_pause.lua");
script!(RECURRING_REMOVE, "recurring_remove.lua");
