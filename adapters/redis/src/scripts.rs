//! The Lua scripts (in `lua/`), each `common.lua` followed by the helpers it shares with others
//! (`store.lua`, `flow.lua`) and its own body; sent by SHA (EVALSHA), loaded again automatically
//! when the server has forgotten them (after a restart).

use std::sync::LazyLock;

use redis::Script;

macro_rules! script {
    ($name:ident, $($file:literal),+) => {
        pub(crate) static $name: LazyLock<Script> = LazyLock::new(|| {
            Script::new(concat!(include_str!("lua/common.lua"), $(include_str!(concat!("lua/", $file))),+))
        });
    };
}

script!(ENQUEUE, "store.lua", "enqueue.lua");
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
script!(ENQUEUE_UNIQUE, "store.lua", "enqueue_unique.lua");
script!(SLOT_ACQUIRE, "flow.lua", "slot_acquire.lua");
script!(SLOT_RELEASE, "flow.lua", "slot_release.lua");
script!(SLOT_EXPIRE, "flow.lua", "slot_expire.lua");
script!(COUNT_START, "count_start.lua");
