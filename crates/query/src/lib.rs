//! `query`: the one statement executor of iotdb-rs.
//!
//! It owns turning a parsed statement (`sql::ast::Statement`) into effects on the
//! storage engine and into result sets: wildcard expansion, expression typing and
//! evaluation, the time join, filters, aggregation, LIMIT/OFFSET/SLIMIT/SOFFSET,
//! ORDER BY TIME, SHOW/COUNT answers with IoTDB 1.0's headers, and value rendering.
//! The Thrift server, the embedded Python session and the CLI all call only this crate.
//!
//! It must not know about Thrift, sessions' wire state or file formats, and it must not
//! parse SQL itself (the `sql` crate does) or reach into storage internals.

#![warn(missing_docs)]

pub mod agg;
pub mod analyze;
pub mod auth;
pub mod exec;
pub mod expr;
pub mod join;
pub mod prune;
pub mod result;
pub mod rowfn;
pub mod running;
pub mod scan;
pub mod select;
pub mod seriesfn;
pub mod template;

pub use result::{EmptyStream, MemStream, Outcome, QueryResult, ResultStream, TableBuilder};
pub use template::{TemplateAnswer, TemplateQuery};

use model::time::TimeZone;
use model::{Error, PartialPath, PathPattern, Result};
use sql::ast::{BinaryOp, Expression, Literal, PathRef, QueryStatement, ResultColumn, Statement};
use std::sync::Arc;

/// Per-session state a statement runs with.
#[derive(Debug, Clone)]
pub struct SessionContext {
    /// The logged-in user.
    pub user: String,
    /// The session time zone (datetime literals without an offset are read in it).
    pub zone: TimeZone,
}

impl Default for SessionContext {
    /// The superuser `root` in UTC: an embedded engine's caller owns the data directory
    /// anyway, so access checks have nothing to protect there.
    fn default() -> Self {
        SessionContext::new(storage::SUPERUSER, TimeZone::default())
    }
}

impl SessionContext {
    /// A context for `user` in `zone`.
    pub fn new(user: impl Into<String>, zone: TimeZone) -> Self {
        SessionContext {
            user: user.into(),
            zone,
        }
    }
}

/// The statement executor; `Send + Sync`, shared by all sessions.
pub struct Executor {
    engine: Arc<storage::Engine>,
    queries: Arc<running::QueryRegistry>,
}

fn unsupported(what: &str) -> Error {
    Error::Unsupported(format!("{what} is not supported yet"))
}

/// Statements that change data or schema; they are refused while the server is read-only.
/// (Inserts are also checked by the engine itself, for the RPC write paths.)
fn changes_data_or_schema(stmt: &Statement) -> bool {
    matches!(
        stmt,
        Statement::CreateDatabase { .. }
            | Statement::DeleteDatabases { .. }
            | Statement::CreateTimeseries { .. }
            | Statement::CreateAlignedTimeseries { .. }
            | Statement::DeleteTimeseries { .. }
            | Statement::AlterTimeseries { .. }
            | Statement::CreateSchemaTemplate { .. }
            | Statement::SetSchemaTemplate { .. }
            | Statement::UnsetSchemaTemplate { .. }
            | Statement::ActivateSchemaTemplate { .. }
            | Statement::DeactivateSchemaTemplate { .. }
            | Statement::DropSchemaTemplate { .. }
            | Statement::Insert(_)
            | Statement::Delete { .. }
            | Statement::DeletePartition { .. }
            | Statement::SetTtl { .. }
            | Statement::UnsetTtl { .. }
            | Statement::LoadFile { .. }
            | Statement::InsertTablet(_)
            | Statement::InsertRows(_)
            | Statement::CreateTemplateDef(_)
            | Statement::AppendTemplate { .. }
            | Statement::PruneTemplate { .. }
            | Statement::DeleteDataRange { .. }
    )
}

fn rows(r: QueryResult) -> Result<Outcome> {
    Ok(Outcome::Rows(r))
}

fn full_path_refs(paths: &[String]) -> Result<Vec<ResultColumn>> {
    paths
        .iter()
        .map(|p| {
            let path = PartialPath::parse(p)?;
            Ok(ResultColumn {
                expr: Expression::Path(PathRef {
                    nodes: path.nodes().to_vec(),
                    full: true,
                }),
                alias: None,
            })
        })
        .collect()
}

fn time_cmp(op: BinaryOp, t: i64) -> Expression {
    Expression::Binary {
        op,
        left: Box::new(Expression::Time),
        right: Box::new(Expression::Constant(Literal::Integer(t))),
    }
}

fn plain_query(
    select: Vec<ResultColumn>,
    where_clause: Option<Expression>,
    last: bool,
) -> QueryStatement {
    QueryStatement {
        select,
        last,
        into: None,
        from: Vec::new(),
        where_clause,
        group_by: None,
        having: None,
        order_by: Vec::new(),
        fill: None,
        limit: None,
        offset: None,
        slimit: None,
        soffset: None,
        align_by_device: false,
    }
}

impl Executor {
    /// An executor over `engine`.
    pub fn new(engine: Arc<storage::Engine>) -> Self {
        Executor {
            engine,
            queries: Arc::default(),
        }
    }

    /// The queries in flight (SHOW QUERIES, KILL QUERY, timeouts).
    pub fn queries(&self) -> &Arc<running::QueryRegistry> {
        &self.queries
    }

    /// Executes one statement like [`Executor::execute`]; a SELECT is listed in SHOW QUERIES
    /// under `id` (from `queries().next_id()`, the statement's id in the logs too) and as
    /// `text` until its result stream is finished or dropped, and stops with an error once
    /// killed or past its timeout (`timeout_ms > 0`, else `query_timeout_threshold`).
    pub fn execute_tracked(
        &self,
        stmt: Statement,
        id: String,
        text: &str,
        timeout_ms: Option<i64>,
        ctx: &SessionContext,
    ) -> Result<Outcome> {
        if !matches!(stmt, Statement::Query(_)) {
            return self.execute(stmt, ctx);
        }
        let guard = self.queries.register(id, &ctx.user, text, timeout_ms);
        // what the statement computes before its first batch stops with it too
        let outcome = guard.query().scoped(|| self.execute(stmt, ctx))?;
        // a kill or timeout that came while the statement ran is reported now
        guard.query().check()?;
        Ok(match outcome {
            Outcome::Rows(r) => Outcome::Rows(guard.track(r)),
            Outcome::Done => Outcome::Done,
        })
    }

    /// The storage engine.
    pub fn engine(&self) -> &Arc<storage::Engine> {
        &self.engine
    }

    /// Parses and executes one SQL statement.
    pub fn execute_sql(&self, sql: &str, ctx: &SessionContext) -> Result<Outcome> {
        self.execute(sql::parse(sql)?, ctx)
    }

    /// The session `executeRawDataQuery` RPC: full series paths (no wildcards), time range
    /// `[start, end_exclusive)`; like `select p1, p2 … where time >= start and time < end`.
    pub fn raw_data_query(
        &self,
        paths: &[String],
        start: i64,
        end_exclusive: i64,
        ctx: &SessionContext,
    ) -> Result<QueryResult> {
        let filter = Expression::Binary {
            op: BinaryOp::And,
            left: Box::new(time_cmp(BinaryOp::GtEq, start)),
            right: Box::new(time_cmp(BinaryOp::Lt, end_exclusive)),
        };
        let q = plain_query(full_path_refs(paths)?, Some(filter), false);
        self.run_checked_query(q, ctx)
    }

    /// The session `executeLastDataQuery` RPC: the latest point of each series with time
    /// `>= min_time`; like `select last p1, p2 … where time >= min_time`.
    pub fn last_data_query(
        &self,
        paths: &[String],
        min_time: i64,
        ctx: &SessionContext,
    ) -> Result<QueryResult> {
        let q = plain_query(
            full_path_refs(paths)?,
            Some(time_cmp(BinaryOp::GtEq, min_time)),
            true,
        );
        self.run_checked_query(q, ctx)
    }

    fn run_checked_query(&self, q: QueryStatement, ctx: &SessionContext) -> Result<QueryResult> {
        let stmt = Statement::Query(Box::new(q));
        auth::check(self.engine.users(), &ctx.user, &stmt)?;
        match stmt {
            Statement::Query(q) => select::run_query(&self.engine, &q, ctx),
            _ => Err(Error::internal("not a query")),
        }
    }

    /// Executes one statement (parsed SQL or a request built from an RPC).
    pub fn execute(&self, stmt: Statement, ctx: &SessionContext) -> Result<Outcome> {
        let e = &*self.engine;
        // The one access check, before anything runs.
        auth::check(e.users(), &ctx.user, &stmt)?;
        if changes_data_or_schema(&stmt) {
            e.check_writable()?;
        }
        match stmt {
            Statement::CreateDatabase { path, attributes } => {
                exec::create_database(e, &path, &attributes)
            }
            Statement::DeleteDatabases { paths } => {
                e.delete_databases(&paths)?;
                Ok(Outcome::Done)
            }
            Statement::ShowDatabases { path } => rows(exec::show_databases(e, path.as_ref())),
            Statement::CountDatabases { path } => rows(exec::count_databases(e, path.as_ref())),
            Statement::CreateTimeseries { path, spec } => exec::create_timeseries(e, &path, &spec),
            Statement::CreateAlignedTimeseries {
                device,
                measurements,
            } => exec::create_aligned(e, &device, &measurements),
            Statement::DeleteTimeseries { paths } => {
                e.delete_timeseries(&paths)?;
                Ok(Outcome::Done)
            }
            Statement::AlterTimeseries { path, op } => exec::alter_timeseries(e, &path, &op),
            Statement::ShowTimeseries {
                path,
                latest,
                filter,
                limit,
                offset,
            } => rows(exec::show_timeseries(
                e,
                path.as_ref(),
                latest,
                filter.as_ref(),
                limit,
                offset,
            )?),
            Statement::CountTimeseries {
                path,
                filter,
                group_by_level,
            } => rows(exec::count_timeseries(
                e,
                path.as_ref(),
                filter.as_ref(),
                group_by_level,
            )),
            Statement::ShowDevices {
                path,
                with_database,
                limit,
                offset,
            } => rows(exec::show_devices(
                e,
                path.as_ref(),
                with_database,
                limit,
                offset,
            )),
            Statement::CountDevices { path } => rows(exec::count_devices(e, path.as_ref())),
            Statement::ShowChildPaths { path } => rows(exec::show_child_paths(e, path.as_ref())),
            Statement::ShowChildNodes { path } => rows(exec::show_child_nodes(e, path.as_ref())),
            Statement::CountNodes { path, level } => rows(exec::count_nodes(e, &path, level)),

            Statement::CreateSchemaTemplate {
                name,
                aligned,
                measurements,
            } => exec::create_template(e, &name, aligned, &measurements),
            Statement::SetSchemaTemplate { name, path } => {
                e.set_template(&name, &exec::concrete(&path)?)?;
                Ok(Outcome::Done)
            }
            Statement::UnsetSchemaTemplate { name, path } => {
                e.unset_template(&name, &exec::concrete(&path)?)?;
                Ok(Outcome::Done)
            }
            Statement::ActivateSchemaTemplate { path } => {
                e.activate_template(&exec::concrete(&path)?)?;
                Ok(Outcome::Done)
            }
            Statement::DeactivateSchemaTemplate { name, paths } => {
                e.deactivate_template(name.as_deref(), &paths)?;
                Ok(Outcome::Done)
            }
            Statement::DropSchemaTemplate { name } => {
                e.drop_template(&name)?;
                Ok(Outcome::Done)
            }
            Statement::ShowSchemaTemplates => rows(exec::show_templates(e)),
            Statement::ShowNodesInSchemaTemplate { name } => {
                rows(exec::show_template_nodes(e, &name)?)
            }
            Statement::ShowPathsSetSchemaTemplate { name } => rows(exec::show_paths_set(e, &name)?),
            Statement::ShowPathsUsingSchemaTemplate { path, name } => {
                rows(exec::show_paths_using(e, path.as_ref(), &name)?)
            }

            Statement::Insert(s) => exec::insert(e, &s, ctx),
            Statement::Delete {
                paths,
                where_clause,
            } => exec::delete(e, &paths, where_clause.as_ref(), ctx),
            Statement::DeletePartition { .. } => Err(unsupported("DELETE PARTITION")),
            Statement::Query(q) => rows(select::run_query(&self.engine, &q, ctx)?),

            Statement::ShowVersion => rows(exec::show_version()),
            Statement::Flush { paths, .. } => {
                for p in &paths {
                    if e.databases(p).is_empty() {
                        return Err(Error::DatabaseNotSet(p.to_string()));
                    }
                }
                e.flush()?;
                Ok(Outcome::Done)
            }
            Statement::SetTtl { path, ttl } => {
                if ttl <= 0 {
                    return Err(Error::Semantic("TTL should be positive.".into()));
                }
                e.set_ttl(&path, Some(ttl))?;
                Ok(Outcome::Done)
            }
            Statement::UnsetTtl { path } => {
                e.set_ttl(&path, None)?;
                Ok(Outcome::Done)
            }
            Statement::ShowTtl { paths } => rows(exec::show_ttl(e, &paths)),
            Statement::ShowAllTtl => rows(exec::show_ttl(e, &[])),
            Statement::Auth(a) => auth::execute(e, &a),
            Statement::ShowCluster { details } => rows(exec::show_cluster(details)),
            Statement::ShowDataNodes => rows(exec::show_data_nodes(e)),
            Statement::ShowConfigNodes => rows(exec::show_config_nodes()),
            Statement::ShowRegions { kind, databases } => {
                rows(exec::show_regions(e, kind.as_ref(), &databases))
            }
            Statement::ShowVariables => rows(exec::show_variables(e)),
            Statement::ShowFunctions => rows(exec::show_functions()),
            Statement::ShowTriggers => rows(exec::show_triggers()),
            Statement::ShowContinuousQueries => rows(exec::show_continuous_queries()),
            Statement::ShowQueries {
                where_clause,
                order_by,
                limit,
                offset,
            } => {
                if where_clause.is_some() || !order_by.is_empty() {
                    return Err(unsupported("SHOW QUERIES with WHERE or ORDER BY"));
                }
                rows(self.queries.show(&ctx.user, limit, offset))
            }
            Statement::KillQuery { query_id } => {
                self.queries.kill(&ctx.user, query_id.as_deref())?;
                Ok(Outcome::Done)
            }
            // No caches are kept above storage, so there is nothing to clear.
            Statement::ClearCache { .. } => Ok(Outcome::Done),
            Statement::Merge { .. } => {
                e.compact()?;
                Ok(Outcome::Done)
            }
            Statement::SetSystemStatus { readonly, .. } => {
                e.set_read_only(readonly);
                Ok(Outcome::Done)
            }
            Statement::LoadFile { file, options } => {
                if options.sglevel.is_some() {
                    return Err(unsupported("LOAD with SGLEVEL"));
                }
                // IoTDB 1.x moves loaded files away by default (ONSUCCESS=DELETE)
                let delete = options.delete_on_success.unwrap_or(true);
                e.load_tsfiles(std::path::Path::new(&file), delete)?;
                Ok(Outcome::Done)
            }
            Statement::Explain(_) => Err(unsupported("EXPLAIN")),

            Statement::InsertTablet(t) => {
                e.insert_tablet(&t)?;
                Ok(Outcome::Done)
            }
            Statement::InsertRows(r) => {
                e.insert_rows(&r)?;
                Ok(Outcome::Done)
            }
            Statement::CreateTemplateDef(t) => {
                e.create_template(t)?;
                Ok(Outcome::Done)
            }
            Statement::AppendTemplate { name, measurements } => {
                e.append_template(&name, measurements)?;
                Ok(Outcome::Done)
            }
            Statement::PruneTemplate { name, path } => {
                e.prune_template(&name, &path)?;
                Ok(Outcome::Done)
            }
            Statement::TemplateInfo { kind, name, path } => {
                rows(exec::template_info(e, kind, &name, &path)?)
            }
            Statement::DeleteDataRange { paths, start, end } => {
                if start <= end {
                    e.delete_data(&paths, storage::TimeRange::new(start, end))?;
                }
                Ok(Outcome::Done)
            }
        }
    }
}

/// The pattern matching every series.
pub fn all_series() -> PathPattern {
    PathPattern::from_nodes(vec!["root".into(), "**".into()])
}
