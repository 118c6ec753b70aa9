//! Durable storage in one SQLite file: state machines, executions (with the
//! interpreter state of running ones), history events and task tokens.
//!
//! Every change an execution makes between two points where it could stop
//! (a call to DynamoDB, a wait) is one transaction, so after `kill -9` the
//! file holds either all of a step or none of it. WAL with
//! `synchronous=NORMAL` makes a commit durable against a process crash
//! without an fsync per step (a power cut may lose the last steps).

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use crate::interpreter::Event;

/// A storage failure; the engine reports it as an internal error.
#[derive(Debug, thiserror::Error)]
#[error("engine storage: {0}")]
pub struct StoreError(#[from] rusqlite::Error);

#[derive(Debug, Clone)]
pub struct MachineRow {
    pub arn: String,
    pub name: String,
    pub definition: String,
    pub role_arn: String,
    pub created_ms: i64,
}

#[derive(Debug, Clone)]
pub struct ExecutionRow {
    pub arn: String,
    pub machine_arn: String,
    pub name: String,
    pub status: String,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub start_ms: i64,
    pub stop_ms: Option<i64>,
    pub definition: String,
    pub role_arn: String,
    /// The interpreter state while running; `None` once finished.
    pub run: Option<String>,
}

/// Where a task token stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Waiting,
    Completed,
    TimedOut,
    /// Its task ended without a callback (stop, sibling failure, timeout of
    /// the execution).
    Dropped,
}

impl TokenStatus {
    fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Waiting => "waiting",
            TokenStatus::Completed => "completed",
            TokenStatus::TimedOut => "timed_out",
            TokenStatus::Dropped => "dropped",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "waiting" => TokenStatus::Waiting,
            "completed" => TokenStatus::Completed,
            "timed_out" => TokenStatus::TimedOut,
            _ => TokenStatus::Dropped,
        }
    }
}

/// Everything one step of an execution changes, written at once.
#[derive(Debug, Default)]
pub struct StepWrite {
    pub status: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub stop_ms: Option<i64>,
    pub run: Option<String>,
    pub events: Vec<Event>,
    pub tokens: Vec<(String, TokenStatus)>,
}

pub struct Store {
    conn: Mutex<Connection>,
    /// Step writes still to refuse: fault injection for tests of what the
    /// engine does when its disk fails (see [`Store::fail_step_writes`]).
    failing_writes: std::sync::atomic::AtomicU32,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS state_machines (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    definition TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    arn TEXT NOT NULL UNIQUE,
    machine_arn TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_ms INTEGER NOT NULL,
    stop_ms INTEGER,
    definition TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    run TEXT
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (machine_arn, seq);
CREATE INDEX IF NOT EXISTS executions_running ON executions (status) WHERE status = 'RUNNING';
CREATE TABLE IF NOT EXISTS events (
    execution_arn TEXT NOT NULL,
    id INTEGER NOT NULL,
    previous_id INTEGER NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    details_key TEXT,
    details TEXT,
    PRIMARY KEY (execution_arn, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    status TEXT NOT NULL
) WITHOUT ROWID;
";

fn machine_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MachineRow> {
    Ok(MachineRow {
        arn: r.get(0)?,
        name: r.get(1)?,
        definition: r.get(2)?,
        role_arn: r.get(3)?,
        created_ms: r.get(4)?,
    })
}

const EXECUTION_COLUMNS: &str = "arn, machine_arn, name, status, input, output, error, cause, start_ms, stop_ms, definition, role_arn, run";

fn execution_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExecutionRow> {
    Ok(ExecutionRow {
        arn: r.get(0)?,
        machine_arn: r.get(1)?,
        name: r.get(2)?,
        status: r.get(3)?,
        input: r.get(4)?,
        output: r.get(5)?,
        error: r.get(6)?,
        cause: r.get(7)?,
        start_ms: r.get(8)?,
        stop_ms: r.get(9)?,
        definition: r.get(10)?,
        role_arn: r.get(11)?,
        run: r.get(12)?,
    })
}

impl Store {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
            failing_writes: Default::default(),
        })
    }

    pub fn in_memory() -> Result<Self, StoreError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
            failing_writes: Default::default(),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        // A panic while holding the lock leaves SQLite consistent (the
        // transaction rolls back on drop), so a poisoned lock is still usable.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        Ok(f(&mut conn)?)
    }

    /// Inserts a state machine; `false` if the name is taken.
    pub fn insert_machine(&self, m: &MachineRow) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO state_machines (arn, name, definition, role_arn, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![m.arn, m.name, m.definition, m.role_arn, m.created_ms],
            )?;
            Ok(n == 1)
        })
    }

    pub fn machine(&self, arn: &str) -> Result<Option<MachineRow>, StoreError> {
        self.with(|c| {
            c.prepare_cached("SELECT arn, name, definition, role_arn, created_ms FROM state_machines WHERE arn = ?1")?
                .query_row([arn], machine_row)
                .optional()
        })
    }

    pub fn machines(&self) -> Result<Vec<MachineRow>, StoreError> {
        self.with(|c| {
            let mut s = c.prepare(
                "SELECT arn, name, definition, role_arn, created_ms FROM state_machines ORDER BY created_ms, name",
            )?;
            s.query_map([], machine_row)?.collect()
        })
    }

    pub fn update_machine(
        &self,
        arn: &str,
        definition: Option<&str>,
        role_arn: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE state_machines SET definition = COALESCE(?2, definition), role_arn = COALESCE(?3, role_arn) WHERE arn = ?1",
                params![arn, definition, role_arn],
            )?;
            Ok(n == 1)
        })
    }

    pub fn delete_machine(&self, arn: &str) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("DELETE FROM state_machines WHERE arn = ?1", [arn])
                .map(|_| ())
        })
    }

    /// Inserts a new execution with its first step; `false` if the ARN
    /// exists already.
    pub fn insert_execution(&self, e: &ExecutionRow, events: &[Event]) -> Result<bool, StoreError> {
        self.with(|c| {
            let tx = c.transaction()?;
            let n = tx
                .prepare_cached(&format!(
                    "INSERT OR IGNORE INTO executions ({EXECUTION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                ))?
                .execute(params![e.arn, e.machine_arn, e.name, e.status, e.input, e.output, e.error, e.cause, e.start_ms, e.stop_ms, e.definition, e.role_arn, e.run])?;
            if n == 0 {
                return Ok(false);
            }
            insert_events(&tx, &e.arn, events)?;
            tx.commit()?;
            Ok(true)
        })
    }

    /// Writes one step of a running execution.
    /// Makes the next `n` step writes fail as a full or broken disk would.
    /// For fault-injection tests; nothing else calls it.
    pub fn fail_step_writes(&self, n: u32) {
        self.failing_writes
            .store(n, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn write_step(&self, arn: &str, w: &StepWrite) -> Result<(), StoreError> {
        let refuse = self
            .failing_writes
            .fetch_update(
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
                |n| n.checked_sub(1),
            )
            .is_ok();
        if refuse {
            return Err(StoreError(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
                Some("injected write failure".into()),
            )));
        }
        self.with(|c| {
            let tx = c.transaction()?;
            // Cached statements: this runs for every step of every execution,
            // and parsing the SQL each time showed up in profiles.
            tx.prepare_cached(
                "UPDATE executions SET status = ?2, output = ?3, error = ?4, cause = ?5, stop_ms = ?6, run = ?7 WHERE arn = ?1",
            )?
            .execute(params![arn, w.status, w.output, w.error, w.cause, w.stop_ms, w.run])?;
            insert_events(&tx, arn, &w.events)?;
            {
                let mut up = tx.prepare_cached(
                    "INSERT INTO tokens (token, execution_arn, status) VALUES (?1, ?2, ?3)
                     ON CONFLICT (token) DO UPDATE SET status = excluded.status",
                )?;
                for (token, status) in &w.tokens {
                    up.execute(params![token, arn, status.as_str()])?;
                }
            }
            tx.commit()
        })
    }

    pub fn execution(&self, arn: &str) -> Result<Option<ExecutionRow>, StoreError> {
        self.with(|c| {
            c.prepare_cached(&format!(
                "SELECT {EXECUTION_COLUMNS} FROM executions WHERE arn = ?1"
            ))?
            .query_row([arn], execution_row)
            .optional()
        })
    }

    /// Executions of a machine, newest first, after `before_seq`.
    pub fn executions(
        &self,
        machine_arn: &str,
        status: Option<&str>,
        before_seq: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, ExecutionRow)>, StoreError> {
        self.with(|c| {
            let mut s = c.prepare(&format!(
                "SELECT seq, {EXECUTION_COLUMNS} FROM executions
                 WHERE machine_arn = ?1 AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR seq < ?3)
                 ORDER BY seq DESC LIMIT ?4"
            ))?;
            s.query_map(
                params![machine_arn, status, before_seq, limit as i64],
                |r| {
                    let seq: i64 = r.get(0)?;
                    let row = ExecutionRow {
                        arn: r.get(1)?,
                        machine_arn: r.get(2)?,
                        name: r.get(3)?,
                        status: r.get(4)?,
                        input: r.get(5)?,
                        output: r.get(6)?,
                        error: r.get(7)?,
                        cause: r.get(8)?,
                        start_ms: r.get(9)?,
                        stop_ms: r.get(10)?,
                        definition: r.get(11)?,
                        role_arn: r.get(12)?,
                        run: r.get(13)?,
                    };
                    Ok((seq, row))
                },
            )?
            .collect()
        })
    }

    pub fn running(&self) -> Result<Vec<ExecutionRow>, StoreError> {
        self.with(|c| {
            let mut s = c.prepare(&format!(
                "SELECT {EXECUTION_COLUMNS} FROM executions WHERE status = 'RUNNING'"
            ))?;
            s.query_map([], execution_row)?.collect()
        })
    }

    /// History events with ids after `after` (or before, in reverse).
    pub fn events(
        &self,
        arn: &str,
        after: Option<u64>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<Event>, StoreError> {
        self.with(|c| {
            let sql = if reverse {
                "SELECT id, previous_id, timestamp_ms, kind, details_key, details FROM events
                 WHERE execution_arn = ?1 AND (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?3"
            } else {
                "SELECT id, previous_id, timestamp_ms, kind, details_key, details FROM events
                 WHERE execution_arn = ?1 AND (?2 IS NULL OR id > ?2) ORDER BY id LIMIT ?3"
            };
            let mut s = c.prepare_cached(sql)?;
            s.query_map(params![arn, after.map(|a| a as i64), limit as i64], |r| {
                let key: Option<String> = r.get(4)?;
                let details: Option<String> = r.get(5)?;
                Ok(Event {
                    id: r.get::<_, i64>(0)? as u64,
                    previous_event_id: r.get::<_, i64>(1)? as u64,
                    timestamp_ms: r.get(2)?,
                    kind: r.get(3)?,
                    details: key.zip(details.and_then(|d| serde_json::from_str(&d).ok())),
                })
            })?
            .collect()
        })
    }

    /// The execution a token belongs to and where the token stands.
    pub fn token(&self, token: &str) -> Result<Option<(String, TokenStatus)>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT execution_arn, status FROM tokens WHERE token = ?1",
                [token],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        TokenStatus::parse(&r.get::<_, String>(1)?),
                    ))
                },
            )
            .optional()
        })
    }
}

fn insert_events(
    tx: &rusqlite::Transaction<'_>,
    arn: &str,
    events: &[Event],
) -> rusqlite::Result<()> {
    let mut s = tx.prepare_cached(
        "INSERT INTO events (execution_arn, id, previous_id, timestamp_ms, kind, details_key, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for e in events {
        let (key, details) = match &e.details {
            Some((k, v)) => (Some(k.as_str()), Some(v.to_string())),
            None => (None, None),
        };
        s.execute(params![
            arn,
            e.id as i64,
            e.previous_event_id as i64,
            e.timestamp_ms,
            e.kind,
            key,
            details
        ])?;
    }
    Ok(())
}
