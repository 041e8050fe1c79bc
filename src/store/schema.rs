//! Numbered migrations, one list for both backends (SQLite tracks its version in `PRAGMA
//! user_version`, PostgreSQL in `humanline_schema`). Append only: a released migration is never
//! edited.

use super::StoreError;

/// Each entry moves the schema from version `index` to `index + 1`. Written in the SQL SQLite
/// and PostgreSQL share, with SQLite's type names; Postgres gets them through [`pg_ddl`].
const MIGRATIONS: &[&str] = &[
    // 1: calls, transcript, events, escalations, dialplan versions.
    r#"
    CREATE TABLE dialplan_versions (
        id             INTEGER PRIMARY KEY,
        name           TEXT NOT NULL,
        sha256         TEXT NOT NULL,
        source         TEXT NOT NULL,
        created_at_ms  INTEGER NOT NULL,
        UNIQUE (name, sha256)
    );
    CREATE TABLE calls (
        id                  TEXT PRIMARY KEY,
        channel             TEXT NOT NULL,
        caller              TEXT,
        dialplan_version_id INTEGER REFERENCES dialplan_versions(id),
        started_at_ms       INTEGER NOT NULL,
        ended_at_ms         INTEGER,
        outcome             TEXT,
        reason              TEXT,
        queue               TEXT,
        path                TEXT NOT NULL DEFAULT '[]',
        vars                TEXT NOT NULL DEFAULT '{}',
        hesitation_score    REAL NOT NULL DEFAULT 0,
        elderly             INTEGER NOT NULL DEFAULT 0,
        recording_path      TEXT
    );
    CREATE INDEX calls_started ON calls (started_at_ms);
    CREATE TABLE turns (
        call_id  TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        seq      INTEGER NOT NULL,
        at_ms    INTEGER NOT NULL,
        speaker  TEXT NOT NULL,
        node     TEXT NOT NULL,
        text     TEXT NOT NULL,
        PRIMARY KEY (call_id, seq)
    );
    CREATE TABLE events (
        call_id  TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        seq      INTEGER NOT NULL,
        at_ms    INTEGER NOT NULL,
        kind     TEXT NOT NULL,
        detail   TEXT NOT NULL,
        PRIMARY KEY (call_id, seq)
    );
    CREATE TABLE escalations (
        call_id  TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
        reason   TEXT NOT NULL,
        queue    TEXT NOT NULL,
        signals  TEXT NOT NULL,
        path     TEXT NOT NULL,
        summary  TEXT NOT NULL,
        at_ms    INTEGER NOT NULL
    );
    CREATE INDEX escalations_reason ON escalations (reason);
    "#,
    // 2: what the SIP server knows about a call: its SIP Call-ID, the keys pressed, the agent
    // who took it and the message left when nobody could.
    r#"
    ALTER TABLE calls ADD COLUMN sip_call_id TEXT;
    ALTER TABLE calls ADD COLUMN dtmf TEXT NOT NULL DEFAULT '';
    ALTER TABLE calls ADD COLUMN agent TEXT;
    ALTER TABLE calls ADD COLUMN message_path TEXT;
    "#,
    // 3: what the recognizer heard, turn by turn, with the measured features.
    r#"
    CREATE TABLE utterances (
        call_id     TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        seq         INTEGER NOT NULL,
        started_ms  INTEGER NOT NULL,
        ended_ms    INTEGER NOT NULL,
        text        TEXT NOT NULL,
        language    TEXT NOT NULL,
        confidence  REAL,
        features    TEXT NOT NULL,
        PRIMARY KEY (call_id, seq)
    );
    "#,
    // 4: the people who answer and run the line (agents, operators, supervisors), their web
    // sessions and API tokens; SIP digest needs HA1 = H(name:realm:password), kept beside the
    // argon2 hash. A call gains the agent's notes, its wait in the queue, and a message's
    // transcript and who dealt with it.
    r#"
    CREATE TABLE users (
        name            TEXT PRIMARY KEY,
        role            TEXT NOT NULL,
        password_hash   TEXT NOT NULL,
        sip_realm       TEXT NOT NULL,
        sip_ha1_md5     TEXT NOT NULL,
        sip_ha1_sha256  TEXT NOT NULL,
        created_at_ms   INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        token_sha256   TEXT PRIMARY KEY,
        user_name      TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        csrf_token     TEXT NOT NULL,
        created_at_ms  INTEGER NOT NULL,
        expires_at_ms  INTEGER NOT NULL
    );
    CREATE TABLE api_tokens (
        token_sha256   TEXT PRIMARY KEY,
        user_name      TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        label          TEXT NOT NULL DEFAULT '',
        created_at_ms  INTEGER NOT NULL
    );
    ALTER TABLE calls ADD COLUMN notes TEXT NOT NULL DEFAULT '';
    ALTER TABLE calls ADD COLUMN queue_wait_ms INTEGER;
    ALTER TABLE calls ADD COLUMN message_text TEXT;
    ALTER TABLE calls ADD COLUMN message_done_by TEXT;
    CREATE INDEX calls_caller ON calls (caller);
    "#,
    // 5: who made which dialplan version live, when and how (published from the operator
    // page, rolled back, or edited on disk); the newest row per plan is the one calls get.
    r#"
    CREATE TABLE dialplan_publications (
        id               INTEGER PRIMARY KEY,
        name             TEXT NOT NULL,
        version_id       INTEGER NOT NULL REFERENCES dialplan_versions(id),
        action           TEXT NOT NULL,
        published_by     TEXT,
        published_at_ms  INTEGER NOT NULL
    );
    CREATE INDEX dialplan_publications_name ON dialplan_publications (name, id);
    "#,
    // 6: which server took the call, when several share a store.
    r#"
    ALTER TABLE calls ADD COLUMN node TEXT;
    "#,
    // 7: what nodes sharing a store tell each other about agents: where phones registered,
    // and which agent a node is ringing or talking to (a lease it renews).
    r#"
    CREATE TABLE agent_registrations (
        name           TEXT PRIMARY KEY,
        node           TEXT NOT NULL,
        contact_uri    TEXT NOT NULL,
        contact_addr   TEXT NOT NULL,
        expires_at_ms  INTEGER NOT NULL
    );
    CREATE TABLE agent_claims (
        agent     TEXT PRIMARY KEY,
        node      TEXT NOT NULL,
        call_id   TEXT NOT NULL,
        until_ms  INTEGER NOT NULL
    );
    "#,
    // 8: the operator's emergency "closed now" switch, every change kept (who, when, why);
    // the newest row is the line's state.
    r#"
    CREATE TABLE line_switches (
        id             INTEGER PRIMARY KEY,
        closed         INTEGER NOT NULL,
        reason         TEXT,
        changed_by     TEXT,
        changed_at_ms  INTEGER NOT NULL
    );
    "#,
    // 9: which agents each call was offered to (rung, or offered in the console), so that an
    // agent reads only those calls. Calls stored before this kept only the agent who took them.
    r#"
    CREATE TABLE call_offers (
        call_id  TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
        agent    TEXT NOT NULL,
        PRIMARY KEY (call_id, agent)
    );
    CREATE INDEX call_offers_agent ON call_offers (agent);
    INSERT INTO call_offers (call_id, agent) SELECT id, agent FROM calls WHERE agent IS NOT NULL;
    "#,
    // 10: the callers waiting in each node's queues, so that nodes sharing the store serve the
    // longest-waiting caller first (a lease, renewed every second like the agent claims).
    r#"
    CREATE TABLE queue_waiting (
        call_id         TEXT PRIMARY KEY,
        queue           TEXT NOT NULL,
        node            TEXT NOT NULL,
        head            INTEGER NOT NULL,
        joined_at_ms    INTEGER NOT NULL,
        ringing         INTEGER NOT NULL,
        lease_until_ms  INTEGER NOT NULL
    );
    CREATE INDEX queue_waiting_node ON queue_waiting (node);
    "#,
    // 11: the language each person hears the line in (a warm transfer's spoken brief); empty
    // means the caller's language.
    r#"
    ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
    "#,
    // 12: callbacks a waiting caller booked instead of holding on: kept until an agent is free
    // (shared by the nodes: a node takes one by a lease), with the caller's place in line
    // (`joined_at_ms`), the context for the agent, the tries and how it ended.
    r#"
    CREATE TABLE callbacks (
        id              INTEGER PRIMARY KEY,
        call_id         TEXT NOT NULL,
        queue           TEXT NOT NULL,
        number          TEXT NOT NULL,
        language        TEXT NOT NULL,
        context         TEXT NOT NULL,
        joined_at_ms    INTEGER NOT NULL,
        created_at_ms   INTEGER NOT NULL,
        state           TEXT NOT NULL,
        attempts        INTEGER NOT NULL,
        next_try_ms     INTEGER NOT NULL,
        node            TEXT,
        lease_until_ms  INTEGER NOT NULL,
        agent           TEXT,
        outcome         TEXT NOT NULL,
        talked_ms       INTEGER NOT NULL,
        updated_at_ms   INTEGER NOT NULL
    );
    CREATE INDEX callbacks_state ON callbacks (state, next_try_ms);
    "#,
];

/// An arbitrary key for the advisory lock that makes nodes starting together migrate one at a
/// time.
const PG_MIGRATION_LOCK: i64 = 0x6875_6d61_6e6c;

/// The migrations a database at version `current` still needs, with their indexes; refuses a
/// database written by a newer humanline.
fn pending(current: i64) -> Result<impl Iterator<Item = (usize, &'static str)>, StoreError> {
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(StoreError::TooNew {
            found: current,
            known,
        });
    }
    Ok(MIGRATIONS
        .iter()
        .copied()
        .enumerate()
        .skip(current as usize))
}

/// Applies every migration newer than the file's `user_version`, each in its own transaction.
pub(super) fn migrate(conn: &mut rusqlite::Connection) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in pending(current)? {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// Applies every Postgres migration newer than `humanline_schema`'s, each in its own
/// transaction, holding an advisory lock so that two nodes starting at once do not both try.
pub(super) fn migrate_pg(link: &super::db::PgLink) -> Result<(), StoreError> {
    link.script(&format!(
        "SELECT pg_advisory_lock({PG_MIGRATION_LOCK});
         CREATE TABLE IF NOT EXISTS humanline_schema (version BIGINT NOT NULL);
         INSERT INTO humanline_schema (version)
             SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM humanline_schema);"
    ))?;
    let result = apply_pg(link);
    let unlocked = link.script(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK});"));
    result.and(unlocked)
}

fn apply_pg(link: &super::db::PgLink) -> Result<(), StoreError> {
    let db = super::db::Db::Postgres(link.clone());
    let current: i64 = db
        .row("SELECT version FROM humanline_schema", vec![])?
        .map_or(Ok(0), |r| r.get(0))?;
    for (i, sql) in pending(current)? {
        let applied = link.script(&format!(
            "BEGIN; {}; UPDATE humanline_schema SET version = {}; COMMIT;",
            pg_ddl(sql),
            i + 1
        ));
        if let Err(e) = applied {
            // The session is inside a failed transaction until it is rolled back.
            let _ = link.script("ROLLBACK;");
            return Err(e);
        }
    }
    Ok(())
}

/// A migration in PostgreSQL's words: the schema is written once, in the SQL both share, with
/// SQLite's type names; Postgres needs 64-bit integers (timestamps in ms), its own
/// auto-numbered keys and doubles.
fn pg_ddl(sqlite: &str) -> String {
    let mut out = String::with_capacity(sqlite.len() + 64);
    for line in sqlite.lines() {
        let line = line.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY");
        let words: Vec<String> = line
            .split(' ')
            .map(|w| match w.trim_end_matches([',', ';', ')']) {
                "INTEGER" => w.replacen("INTEGER", "BIGINT", 1),
                "REAL" => w.replacen("REAL", "DOUBLE PRECISION", 1),
                _ => w.to_string(),
            })
            .collect();
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_gets_64_bit_integers_serial_keys_and_doubles() {
        let pg = pg_ddl(
            "CREATE TABLE t (\n    id INTEGER PRIMARY KEY,\n    at_ms INTEGER NOT NULL,\n    score REAL,\n    n INTEGER\n);\nALTER TABLE t ADD COLUMN conf REAL;",
        );
        assert_eq!(
            pg,
            "CREATE TABLE t (\n    id BIGSERIAL PRIMARY KEY,\n    at_ms BIGINT NOT NULL,\n    score DOUBLE PRECISION,\n    n BIGINT\n);\nALTER TABLE t ADD COLUMN conf DOUBLE PRECISION;\n"
        );
    }

    #[test]
    fn every_migration_has_only_types_postgres_knows_after_translation() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            let pg = pg_ddl(m);
            for word in pg.split(|c: char| !c.is_ascii_alphanumeric() && c != '_') {
                assert!(
                    !matches!(
                        word,
                        "INTEGER" | "REAL" | "AUTOINCREMENT" | "BLOB" | "PRAGMA"
                    ),
                    "migration {} keeps {word} for Postgres:\n{pg}",
                    i + 1
                );
            }
        }
    }
}
