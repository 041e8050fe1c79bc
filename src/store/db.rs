//! One way to run SQL on either backend: an SQLite file (one node) or PostgreSQL (several nodes
//! sharing calls, users, plan versions and agents; DESIGN §10).
//!
//! Queries are written once, in the SQL both understand, with `?1`, `?2`… placeholders
//! (rewritten to `$1`, `$2`… for Postgres). Values go in as [`Val`] and come out in [`Row`]s,
//! read with [`Row::get`] like rusqlite's rows. A transaction is a list of statements run
//! all-or-nothing ([`Db::batch`]): the store never needs to read inside one.
//!
//! The Postgres client is blocking, and blocking clients may not run on the async runtime's
//! threads, so it lives on a thread of its own and requests go to it over a channel; a call
//! waits for its answer like it would for SQLite's disk.

use super::StoreError;
use std::sync::mpsc;

/// A value going into or coming out of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// SQL NULL.
    Null,
    /// Any integer (timestamps, ids, flags).
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text (JSON columns included).
    Text(String),
}

macro_rules! val_from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Val {
            fn from(v: $t) -> Val {
                Val::Int(v as i64)
            }
        }
    )*};
}
val_from_int!(i64, i32, u32, u16, usize);

impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Int(i64::from(v))
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::Real(v)
    }
}
impl From<f32> for Val {
    fn from(v: f32) -> Val {
        Val::Real(f64::from(v))
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Val {
        v.map_or(Val::Null, Into::into)
    }
}
impl<T: Clone + Into<Val>> From<&Option<T>> for Val {
    fn from(v: &Option<T>) -> Val {
        v.clone().map_or(Val::Null, Into::into)
    }
}

/// The parameters of a query: `vals![a, b, c]`.
macro_rules! vals {
    ($($e:expr),* $(,)?) => { vec![$($crate::store::db::Val::from($e)),*] };
}
pub(crate) use vals;

/// Reads a [`Val`] as a Rust value.
pub trait FromVal: Sized {
    /// `None` when the value has another type.
    fn from_val(v: &Val) -> Option<Self>;
}

impl FromVal for i64 {
    fn from_val(v: &Val) -> Option<Self> {
        match v {
            Val::Int(i) => Some(*i),
            Val::Real(f) if f.fract() == 0.0 => Some(*f as i64),
            _ => None,
        }
    }
}
impl FromVal for f64 {
    fn from_val(v: &Val) -> Option<Self> {
        match v {
            Val::Real(f) => Some(*f),
            Val::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}
impl FromVal for f32 {
    fn from_val(v: &Val) -> Option<Self> {
        f64::from_val(v).map(|f| f as f32)
    }
}
impl FromVal for bool {
    fn from_val(v: &Val) -> Option<Self> {
        i64::from_val(v).map(|i| i != 0)
    }
}
impl FromVal for String {
    fn from_val(v: &Val) -> Option<Self> {
        match v {
            Val::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl<T: FromVal> FromVal for Option<T> {
    fn from_val(v: &Val) -> Option<Self> {
        match v {
            Val::Null => Some(None),
            v => T::from_val(v).map(Some),
        }
    }
}

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Val>);

impl Row {
    /// Column `i` as `T` (an `Option` for a column that may be NULL).
    pub fn get<T: FromVal>(&self, i: usize) -> Result<T, StoreError> {
        let v = self.0.get(i).unwrap_or(&Val::Null);
        T::from_val(v).ok_or_else(|| {
            StoreError::Type(format!(
                "column {i} holds {v:?}, not a {}",
                std::any::type_name::<T>()
            ))
        })
    }
}

/// A connection to one backend.
pub enum Db {
    /// One SQLite file (or memory).
    Sqlite(rusqlite::Connection),
    /// A PostgreSQL database, through its client thread.
    Postgres(PgLink),
}

impl Db {
    /// Runs one statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: Vec<Val>) -> Result<usize, StoreError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute(sql, rusqlite::params_from_iter(params.iter()))?),
            Db::Postgres(pg) => match pg.ask(Request::Execute(sql.to_string(), params))? {
                Answer::Count(n) => Ok(n),
                _ => Err(StoreError::Backend("unexpected answer".into())),
            },
        }
    }

    /// Every row a query returns.
    pub fn rows(&self, sql: &str, params: Vec<Val>) -> Result<Vec<Row>, StoreError> {
        match self {
            Db::Sqlite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let n = st.column_count();
                let rows = st
                    .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                        (0..n)
                            .map(|i| r.get_ref(i).map(Val::from_sqlite))
                            .collect::<Result<Vec<_>, _>>()
                            .map(Row)
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            }
            Db::Postgres(pg) => match pg.ask(Request::Rows(sql.to_string(), params))? {
                Answer::Rows(r) => Ok(r),
                _ => Err(StoreError::Backend("unexpected answer".into())),
            },
        }
    }

    /// The first row of a query, if any.
    pub fn row(&self, sql: &str, params: Vec<Val>) -> Result<Option<Row>, StoreError> {
        Ok(self.rows(sql, params)?.into_iter().next())
    }

    /// Runs the statements in one transaction: all or none. The rows each changed.
    pub fn batch(&mut self, stmts: Vec<(&str, Vec<Val>)>) -> Result<Vec<usize>, StoreError> {
        match self {
            Db::Sqlite(c) => {
                // The write lock up front: with several connections (the pool), a transaction
                // that took it only at its first write could find another writer there and
                // fail at once instead of waiting its busy timeout.
                let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let mut counts = Vec::with_capacity(stmts.len());
                for (sql, params) in &stmts {
                    counts.push(tx.execute(sql, rusqlite::params_from_iter(params.iter()))?);
                }
                tx.commit()?;
                Ok(counts)
            }
            Db::Postgres(pg) => {
                let owned = stmts.into_iter().map(|(s, p)| (s.to_string(), p)).collect();
                match pg.ask(Request::Batch(owned))? {
                    Answer::Counts(c) => Ok(c),
                    _ => Err(StoreError::Backend("unexpected answer".into())),
                }
            }
        }
    }
}

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Val::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Val::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Val::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Val::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

impl Val {
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> Val {
        use rusqlite::types::ValueRef;
        match v {
            ValueRef::Null => Val::Null,
            ValueRef::Integer(i) => Val::Int(i),
            ValueRef::Real(f) => Val::Real(f),
            ValueRef::Text(t) | ValueRef::Blob(t) => Val::Text(String::from_utf8_lossy(t).into()),
        }
    }
}

// ---- PostgreSQL ---------------------------------------------------------------------------

/// What the store asks the Postgres thread.
enum Request {
    Execute(String, Vec<Val>),
    Rows(String, Vec<Val>),
    Batch(Vec<(String, Vec<Val>)>),
    /// Runs SQL text as is (several statements; the schema).
    Script(String),
}

enum Answer {
    Count(usize),
    Rows(Vec<Row>),
    Counts(Vec<usize>),
    Done,
}

type Reply = mpsc::Sender<Result<Answer, StoreError>>;

/// The handle of the thread that owns the Postgres connection.
#[derive(Clone)]
pub struct PgLink {
    tx: mpsc::Sender<(Request, Reply)>,
}

impl PgLink {
    /// Connects to `conninfo` (libpq style: `host=… port=… user=… dbname=…`) on a new thread.
    /// Connecting happens on that thread too: the blocking client may not even connect from
    /// a thread of the async runtime.
    pub fn connect(conninfo: &str) -> Result<PgLink, StoreError> {
        let (tx, rx) = mpsc::channel::<(Request, Reply)>();
        let (ready_tx, ready) = mpsc::channel::<Result<(), StoreError>>();
        let conninfo = conninfo.to_string();
        std::thread::Builder::new()
            .name("postgres".into())
            .spawn(
                move || match postgres::Client::connect(&conninfo, postgres::NoTls) {
                    Ok(client) => {
                        let _ = ready_tx.send(Ok(()));
                        serve(client, &conninfo, &rx);
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                    }
                },
            )
            .map_err(|e| StoreError::Backend(format!("cannot start the Postgres thread: {e}")))?;
        ready
            .recv()
            .map_err(|_| StoreError::Backend("the Postgres thread ended at once".into()))??;
        Ok(PgLink { tx })
    }

    fn ask(&self, r: Request) -> Result<Answer, StoreError> {
        let (reply, answer) = mpsc::channel();
        self.tx
            .send((r, reply))
            .map_err(|_| StoreError::Backend("the Postgres thread is gone".into()))?;
        answer
            .recv()
            .map_err(|_| StoreError::Backend("the Postgres thread is gone".into()))?
    }

    /// Runs SQL text as is: several statements, no parameters.
    pub fn script(&self, sql: &str) -> Result<(), StoreError> {
        self.ask(Request::Script(sql.to_string())).map(|_| ())
    }
}

/// The Postgres thread: answers requests until the store is dropped, connecting again when
/// the server went away (a restarted database costs the requests made while it was down).
fn serve(mut client: postgres::Client, conninfo: &str, rx: &mpsc::Receiver<(Request, Reply)>) {
    while let Ok((req, reply)) = rx.recv() {
        if client.is_closed() {
            match postgres::Client::connect(conninfo, postgres::NoTls) {
                Ok(c) => client = c,
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                    continue;
                }
            }
        }
        let _ = reply.send(answer(&mut client, req));
    }
}

fn answer(client: &mut postgres::Client, req: Request) -> Result<Answer, StoreError> {
    match req {
        Request::Execute(sql, params) => Ok(Answer::Count(pg_execute(client, &sql, &params)?)),
        Request::Rows(sql, params) => {
            let (st, args) = prepared(client, &sql, &params)?;
            let rows = client.query(&st, &arg_refs(&args))?;
            Ok(Answer::Rows(
                rows.iter().map(pg_row).collect::<Result<_, _>>()?,
            ))
        }
        Request::Batch(stmts) => {
            let mut tx = client.transaction()?;
            let mut counts = Vec::with_capacity(stmts.len());
            for (sql, params) in &stmts {
                counts.push(pg_execute(&mut tx, sql, params)?);
            }
            tx.commit()?;
            Ok(Answer::Counts(counts))
        }
        Request::Script(sql) => {
            client.batch_execute(&sql)?;
            Ok(Answer::Done)
        }
    }
}

type PgArg = Box<dyn postgres::types::ToSql + Sync>;

/// Prepares `sql` on `c` (a connection or a transaction) with `params` typed the way the
/// statement expects them.
fn prepared<C: postgres::GenericClient>(
    c: &mut C,
    sql: &str,
    params: &[Val],
) -> Result<(postgres::Statement, Vec<PgArg>), StoreError> {
    let st = c.prepare(&pg_sql(sql))?;
    let args = pg_args(params, st.params())?;
    Ok((st, args))
}

fn arg_refs(args: &[PgArg]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    args.iter().map(|a| a.as_ref() as _).collect()
}

fn pg_execute<C: postgres::GenericClient>(
    c: &mut C,
    sql: &str,
    params: &[Val],
) -> Result<usize, StoreError> {
    let (st, args) = prepared(c, sql, params)?;
    Ok(c.execute(&st, &arg_refs(&args))? as usize)
}

/// `?N` placeholders as Postgres writes them (`$N`); text inside quotes is left alone.
pub fn pg_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut quoted = false;
    let mut next = 1;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    digits = next.to_string();
                }
                next += 1;
                out.push('$');
                out.push_str(&digits);
            }
            c => out.push(c),
        }
    }
    out
}

/// The parameters typed the way the prepared statement expects them.
fn pg_args(params: &[Val], types: &[postgres::types::Type]) -> Result<Vec<PgArg>, StoreError> {
    use postgres::types::Type;
    if params.len() != types.len() {
        return Err(StoreError::Type(format!(
            "{} parameters for {} placeholders",
            params.len(),
            types.len()
        )));
    }
    params
        .iter()
        .zip(types)
        .map(
            |(v, t)| -> Result<Box<dyn postgres::types::ToSql + Sync>, StoreError> {
                let wrong = || StoreError::Type(format!("{v:?} for a {t} parameter"));
                Ok(match *t {
                    Type::INT8 => Box::new(Option::<i64>::from_val(v).ok_or_else(wrong)?),
                    Type::INT4 => Box::new(
                        Option::<i64>::from_val(v)
                            .ok_or_else(wrong)?
                            .map(|i| i32::try_from(i).unwrap_or(i32::MAX)),
                    ),
                    Type::INT2 => Box::new(
                        Option::<i64>::from_val(v)
                            .ok_or_else(wrong)?
                            .map(|i| i16::try_from(i).unwrap_or(i16::MAX)),
                    ),
                    Type::FLOAT8 => Box::new(Option::<f64>::from_val(v).ok_or_else(wrong)?),
                    Type::FLOAT4 => Box::new(Option::<f32>::from_val(v).ok_or_else(wrong)?),
                    Type::BOOL => Box::new(Option::<bool>::from_val(v).ok_or_else(wrong)?),
                    _ => Box::new(match v {
                        Val::Null => None,
                        Val::Text(s) => Some(s.clone()),
                        Val::Int(i) => Some(i.to_string()),
                        Val::Real(f) => Some(f.to_string()),
                    }),
                })
            },
        )
        .collect()
}

fn pg_row(r: &postgres::Row) -> Result<Row, StoreError> {
    use postgres::types::Type;
    let mut out = Vec::with_capacity(r.len());
    for (i, col) in r.columns().iter().enumerate() {
        let v = match *col.type_() {
            Type::INT8 => r.try_get::<_, Option<i64>>(i)?.map(Val::Int),
            Type::INT4 => r.try_get::<_, Option<i32>>(i)?.map(|x| Val::Int(x.into())),
            Type::INT2 => r.try_get::<_, Option<i16>>(i)?.map(|x| Val::Int(x.into())),
            Type::FLOAT8 => r.try_get::<_, Option<f64>>(i)?.map(Val::Real),
            Type::FLOAT4 => r.try_get::<_, Option<f32>>(i)?.map(|x| Val::Real(x.into())),
            Type::BOOL => r.try_get::<_, Option<bool>>(i)?.map(|b| Val::Int(b.into())),
            _ => r.try_get::<_, Option<String>>(i)?.map(Val::Text),
        };
        out.push(v.unwrap_or(Val::Null));
    }
    Ok(Row(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollars_outside_quotes() {
        assert_eq!(
            pg_sql("SELECT a FROM t WHERE b = ?1 AND c LIKE ?2 ESCAPE '\\' AND d = '?3'"),
            "SELECT a FROM t WHERE b = $1 AND c LIKE $2 ESCAPE '\\' AND d = '?3'"
        );
        assert_eq!(pg_sql("VALUES (?, ?)"), "VALUES ($1, $2)");
    }

    #[test]
    fn sqlite_rows_read_back_as_their_types() {
        let db = Db::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.execute("CREATE TABLE t (a INTEGER, b REAL, c TEXT, d TEXT)", vec![])
            .unwrap();
        db.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3, ?4)",
            vals![7i64, 0.5f64, "x", None::<String>],
        )
        .unwrap();
        let r = db.row("SELECT a, b, c, d FROM t", vec![]).unwrap().unwrap();
        assert_eq!(r.get::<i64>(0).unwrap(), 7);
        assert_eq!(r.get::<f64>(1).unwrap(), 0.5);
        assert_eq!(r.get::<String>(2).unwrap(), "x");
        assert_eq!(r.get::<Option<String>>(3).unwrap(), None);
        assert!(r.get::<String>(3).is_err(), "NULL is not a String");
        assert!(r.get::<i64>(2).is_err(), "text is not a number");
    }
}
