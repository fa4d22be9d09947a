//! Access control as IoTDB 1.0 defines it: privilege names, what each statement needs on
//! which paths, the one check every statement passes before it runs ([`check`]), and the
//! user/role statements (CREATE/DROP USER|ROLE, GRANT/REVOKE, LIST …).
//!
//! Rules (IoTDB 1.0's `AuthorityChecker`, `AuthUtils`, `BasicAuthorizer`):
//! * `root` holds every privilege; it cannot be dropped, granted or revoked anything.
//! * A privilege is held on a path pattern, directly or through a role. A statement on paths
//!   `p1 … pn` needs the privilege on each `pi`: some held pattern must cover `pi` (every path
//!   `pi` matches, the held pattern matches too). Statements without paths need it on `root.**`.
//! * Privileges that are not about paths (user management, templates, functions …) can only be
//!   granted on `root.**`.
//! * A user may change their own password without `MODIFY_PASSWORD`.
//! * Maintenance statements (FLUSH, MERGE, CLEAR CACHE, SET SYSTEM, DELETE PARTITION) are
//!   for `root` only, as in IoTDB 1.0, where they map to no privilege.
//!
//! Refusals answer `NO_PERMISSION` (803) naming the privilege and the path.

use crate::result::{text, TableBuilder};
use crate::Outcome;
use model::{Error, PathPattern, Result, TSDataType};
use sql::ast::{AuthStatement, Expression, Grantee, QueryStatement, Statement, TemplateInfoKind};
use storage::{Engine, PrivilegeHolder, PrivilegeMap, UserStore, SUPERUSER};

/// IoTDB 1.0's privileges (`PrivilegeType`), in its order, with whether each is about paths.
pub const PRIVILEGES: &[(&str, bool)] = &[
    ("CREATE_DATABASE", true),
    ("INSERT_TIMESERIES", true),
    ("UPDATE_TIMESERIES", true),
    ("READ_TIMESERIES", true),
    ("CREATE_TIMESERIES", true),
    ("DELETE_TIMESERIES", true),
    ("CREATE_USER", false),
    ("DELETE_USER", false),
    ("MODIFY_PASSWORD", false),
    ("LIST_USER", false),
    ("GRANT_USER_PRIVILEGE", false),
    ("REVOKE_USER_PRIVILEGE", false),
    ("GRANT_USER_ROLE", false),
    ("REVOKE_USER_ROLE", false),
    ("CREATE_ROLE", false),
    ("DELETE_ROLE", false),
    ("LIST_ROLE", false),
    ("GRANT_ROLE_PRIVILEGE", false),
    ("REVOKE_ROLE_PRIVILEGE", false),
    ("CREATE_FUNCTION", false),
    ("DROP_FUNCTION", false),
    ("CREATE_TRIGGER", true),
    ("DROP_TRIGGER", true),
    ("START_TRIGGER", true),
    ("STOP_TRIGGER", true),
    ("CREATE_CONTINUOUS_QUERY", false),
    ("DROP_CONTINUOUS_QUERY", false),
    ("ALL", false),
    ("DELETE_DATABASE", true),
    ("ALTER_TIMESERIES", true),
    ("UPDATE_TEMPLATE", false),
    ("READ_TEMPLATE", false),
    ("APPLY_TEMPLATE", true),
    ("READ_TEMPLATE_APPLICATION", false),
    ("SHOW_CONTINUOUS_QUERIES", false),
];

const ALL: &str = "ALL";

/// What a statement needs before it may run.
#[derive(Debug, Clone, PartialEq)]
pub enum Requirement {
    /// Anyone logged in.
    Nothing,
    /// `root` only (`what` names the statement for the message).
    Root(&'static str),
    /// The privilege on every path (`root.**` when the list is empty).
    Privilege(&'static str, Vec<PathPattern>),
}

fn all_paths() -> PathPattern {
    PathPattern::from_nodes(vec!["root".into(), "**".into()])
}

/// The canonical name of a privilege as written in GRANT/REVOKE (IoTDB 1.0 also accepts the
/// old `SET_STORAGE_GROUP` / `DELETE_STORAGE_GROUP`), or `None` if there is no such privilege.
pub fn privilege_name(written: &str) -> Option<&'static str> {
    let upper = written.to_ascii_uppercase();
    let name = match upper.as_str() {
        "SET_STORAGE_GROUP" => "CREATE_DATABASE",
        "DELETE_STORAGE_GROUP" => "DELETE_DATABASE",
        other => other,
    };
    PRIVILEGES.iter().find(|(n, _)| *n == name).map(|(n, _)| *n)
}

fn is_path_relevant(name: &str) -> bool {
    PRIVILEGES.iter().any(|(n, p)| *n == name && *p)
}

fn ordinal(name: &str) -> usize {
    PRIVILEGES
        .iter()
        .position(|(n, _)| *n == name)
        .unwrap_or(usize::MAX)
}

fn is_glob(node: &str) -> bool {
    node.contains('*') && !node.starts_with('`')
}

/// True if every path matched by `requested` is matched by `granted` (pattern inclusion for
/// IoTDB patterns: `*` one node, `**` one or more nodes, `a*` globs within a node). Errs on
/// the side of "not covered" where a glob would have to contain another glob.
pub fn covers(granted: &PathPattern, requested: &PathPattern) -> bool {
    let g = granted.nodes();
    let r = requested.nodes();
    // memo[i][j]: g[i..] covers r[j..]
    let mut memo = vec![vec![None; r.len() + 1]; g.len() + 1];
    fn go(g: &[String], r: &[String], i: usize, j: usize, memo: &mut [Vec<Option<bool>>]) -> bool {
        if let Some(v) = memo[i][j] {
            return v;
        }
        let v = if i == g.len() || j == r.len() {
            i == g.len() && j == r.len()
        } else {
            let (gn, rn) = (g[i].as_str(), r[j].as_str());
            if gn == "**" {
                // `**` takes r[j] (whatever it is) and either stops or takes more
                go(g, r, i + 1, j + 1, memo) || go(g, r, i, j + 1, memo)
            } else if rn == "**" {
                false
            } else if gn == "*" {
                go(g, r, i + 1, j + 1, memo)
            } else if is_glob(gn) {
                let single = if is_glob(rn) || rn == "*" {
                    gn == rn
                } else {
                    model::path::node_matches(gn, rn)
                };
                single && go(g, r, i + 1, j + 1, memo)
            } else {
                gn == rn && go(g, r, i + 1, j + 1, memo)
            }
        };
        memo[i][j] = Some(v);
        v
    }
    go(g, r, 0, 0, &mut memo)
}

fn collect_paths(e: &Expression, from: &[PathPattern], out: &mut Vec<PathPattern>) {
    match e {
        Expression::Path(r) => {
            if r.full || from.is_empty() {
                out.push(PathPattern::from_nodes(r.nodes.clone()));
            } else {
                for prefix in from {
                    let mut nodes = prefix.nodes().to_vec();
                    nodes.extend(r.nodes.iter().cloned());
                    out.push(PathPattern::from_nodes(nodes));
                }
            }
        }
        Expression::Time | Expression::Constant(_) => {}
        Expression::Function { args, .. } => {
            for a in args {
                collect_paths(a, from, out);
            }
        }
        Expression::Unary { expr, .. }
        | Expression::In { expr, .. }
        | Expression::Like { expr, .. }
        | Expression::Regexp { expr, .. }
        | Expression::IsNull { expr, .. }
        | Expression::Cast { expr, .. } => collect_paths(expr, from, out),
        Expression::Binary { left, right, .. } => {
            collect_paths(left, from, out);
            collect_paths(right, from, out);
        }
        Expression::Between {
            expr, low, high, ..
        } => {
            collect_paths(expr, from, out);
            collect_paths(low, from, out);
            collect_paths(high, from, out);
        }
    }
}

/// The series patterns a query reads: its select items and WHERE clause, joined with FROM.
pub fn query_paths(q: &QueryStatement) -> Vec<PathPattern> {
    let mut out = Vec::new();
    for c in &q.select {
        collect_paths(&c.expr, &q.from, &mut out);
    }
    if let Some(w) = &q.where_clause {
        collect_paths(w, &q.from, &mut out);
    }
    if let Some(h) = &q.having {
        collect_paths(h, &q.from, &mut out);
    }
    out.sort();
    out.dedup();
    out
}

fn or_all(p: &Option<PathPattern>) -> Vec<PathPattern> {
    vec![p.clone().unwrap_or_else(all_paths)]
}

fn below(p: &Option<PathPattern>) -> Vec<PathPattern> {
    let base = p
        .clone()
        .unwrap_or_else(|| PathPattern::from_nodes(vec!["root".into()]));
    vec![base.child("**")]
}

fn series_of(device: &model::PartialPath, measurements: &[String]) -> Vec<PathPattern> {
    measurements
        .iter()
        .map(|m| device.to_pattern().child(m))
        .collect()
}

/// What `stmt` needs, for a session of `user`.
pub fn requirement(stmt: &Statement, user: &str) -> Requirement {
    use Requirement::{Nothing, Privilege as P, Root};
    match stmt {
        Statement::CreateDatabase { path, .. } => P("CREATE_DATABASE", vec![path.clone()]),
        Statement::DeleteDatabases { paths } => P("DELETE_DATABASE", paths.clone()),
        Statement::SetTtl { path, .. } | Statement::UnsetTtl { path } => {
            P("CREATE_DATABASE", vec![path.clone()])
        }
        Statement::ShowDatabases { path } | Statement::CountDatabases { path } => {
            P("READ_TIMESERIES", or_all(path))
        }
        Statement::ShowTtl { paths } => P("READ_TIMESERIES", paths.clone()),
        Statement::ShowAllTtl => P("READ_TIMESERIES", vec![]),
        Statement::CreateTimeseries { path, .. } => P("CREATE_TIMESERIES", vec![path.to_pattern()]),
        Statement::CreateAlignedTimeseries {
            device,
            measurements,
        } => {
            let names: Vec<String> = measurements.iter().map(|(m, _)| m.clone()).collect();
            P("CREATE_TIMESERIES", series_of(device, &names))
        }
        Statement::DeleteTimeseries { paths } => P("DELETE_TIMESERIES", paths.clone()),
        Statement::AlterTimeseries { path, .. } => P("ALTER_TIMESERIES", vec![path.to_pattern()]),
        Statement::ShowTimeseries { path, .. }
        | Statement::CountTimeseries { path, .. }
        | Statement::ShowDevices { path, .. }
        | Statement::CountDevices { path } => P("READ_TIMESERIES", or_all(path)),
        Statement::ShowChildPaths { path } | Statement::ShowChildNodes { path } => {
            P("READ_TIMESERIES", below(path))
        }
        Statement::CountNodes { path, .. } => P("READ_TIMESERIES", vec![path.clone()]),

        Statement::CreateSchemaTemplate { .. }
        | Statement::DropSchemaTemplate { .. }
        | Statement::CreateTemplateDef(_)
        | Statement::AppendTemplate { .. }
        | Statement::PruneTemplate { .. } => P("UPDATE_TEMPLATE", vec![]),
        Statement::SetSchemaTemplate { path, .. }
        | Statement::UnsetSchemaTemplate { path, .. }
        | Statement::ActivateSchemaTemplate { path } => P("APPLY_TEMPLATE", vec![path.clone()]),
        Statement::DeactivateSchemaTemplate { paths, .. } => P("APPLY_TEMPLATE", paths.clone()),
        Statement::ShowSchemaTemplates | Statement::ShowNodesInSchemaTemplate { .. } => {
            P("READ_TEMPLATE", vec![])
        }
        Statement::ShowPathsSetSchemaTemplate { .. }
        | Statement::ShowPathsUsingSchemaTemplate { .. } => P("READ_TEMPLATE_APPLICATION", vec![]),
        Statement::TemplateInfo { kind, .. } => match kind {
            TemplateInfoKind::ShowSetTemplates | TemplateInfoKind::ShowUsingTemplates => {
                P("READ_TEMPLATE_APPLICATION", vec![])
            }
            _ => P("READ_TEMPLATE", vec![]),
        },

        Statement::Insert(s) => P("INSERT_TIMESERIES", series_of(&s.device, &s.measurements)),
        Statement::InsertTablet(t) => P("INSERT_TIMESERIES", series_of(&t.device, &t.measurements)),
        Statement::InsertRows(r) => {
            let mut paths: Vec<PathPattern> = r
                .rows
                .iter()
                .flat_map(|row| series_of(&row.device, &row.measurements))
                .collect();
            paths.sort();
            paths.dedup();
            P("INSERT_TIMESERIES", paths)
        }
        Statement::LoadFile { .. } => P("INSERT_TIMESERIES", vec![]),
        Statement::Delete { paths, .. } | Statement::DeleteDataRange { paths, .. } => {
            P("DELETE_TIMESERIES", paths.clone())
        }
        Statement::Query(q) | Statement::Explain(q) => {
            if q.into.is_some() {
                // the targets of SELECT INTO are computed while it runs
                return Root("SELECT INTO");
            }
            P("READ_TIMESERIES", query_paths(q))
        }

        Statement::DeletePartition { .. } => Root("DELETE PARTITION"),
        Statement::Flush { .. } => Root("FLUSH"),
        Statement::Merge { .. } => Root("MERGE"),
        Statement::ClearCache { .. } => Root("CLEAR CACHE"),
        Statement::SetSystemStatus { .. } => Root("SET SYSTEM"),
        Statement::ShowContinuousQueries => P("SHOW_CONTINUOUS_QUERIES", vec![]),
        // Informational statements about the server itself; SHOW QUERIES lists (and KILL
        // QUERY stops) only the user's own queries unless the user is root.
        Statement::ShowVersion
        | Statement::ShowCluster { .. }
        | Statement::ShowDataNodes
        | Statement::ShowConfigNodes
        | Statement::ShowRegions { .. }
        | Statement::ShowVariables
        | Statement::ShowFunctions
        | Statement::ShowTriggers
        | Statement::ShowQueries { .. }
        | Statement::KillQuery { .. } => Nothing,

        Statement::Auth(a) => auth_requirement(a, user),
    }
}

fn auth_requirement(a: &AuthStatement, user: &str) -> Requirement {
    use Requirement::{Nothing, Privilege as P};
    match a {
        AuthStatement::CreateUser { .. } => P("CREATE_USER", vec![]),
        AuthStatement::DropUser { .. } => P("DELETE_USER", vec![]),
        AuthStatement::AlterUser { user: target, .. } if target == user => Nothing,
        AuthStatement::AlterUser { .. } => P("MODIFY_PASSWORD", vec![]),
        AuthStatement::CreateRole { .. } => P("CREATE_ROLE", vec![]),
        AuthStatement::DropRole { .. } => P("DELETE_ROLE", vec![]),
        AuthStatement::Grant { target, .. } => match target {
            Grantee::User(_) => P("GRANT_USER_PRIVILEGE", vec![]),
            Grantee::Role(_) => P("GRANT_ROLE_PRIVILEGE", vec![]),
        },
        AuthStatement::Revoke { target, .. } => match target {
            Grantee::User(_) => P("REVOKE_USER_PRIVILEGE", vec![]),
            Grantee::Role(_) => P("REVOKE_ROLE_PRIVILEGE", vec![]),
        },
        AuthStatement::GrantRoleToUser { .. } => P("GRANT_USER_ROLE", vec![]),
        AuthStatement::RevokeRoleFromUser { .. } => P("REVOKE_USER_ROLE", vec![]),
        AuthStatement::ListUser { of_role: None } => P("LIST_USER", vec![]),
        AuthStatement::ListUser { of_role: Some(_) } => P("LIST_ROLE", vec![]),
        AuthStatement::ListRole { of_user: Some(u) } if u == user => Nothing,
        AuthStatement::ListRole { of_user: Some(_) } => P("LIST_USER", vec![]),
        AuthStatement::ListRole { of_user: None } => P("LIST_ROLE", vec![]),
        AuthStatement::ListPrivileges { target, .. } => match target {
            Grantee::User(u) if u == user => Nothing,
            Grantee::User(_) => P("LIST_USER", vec![]),
            Grantee::Role(_) => P("LIST_ROLE", vec![]),
        },
    }
}

/// True if `user` holds `privilege` on `path` (directly or through a role; `root` always).
pub fn has_privilege(users: &UserStore, user: &str, privilege: &str, path: &PathPattern) -> bool {
    user == SUPERUSER
        || users.any_privilege(user, |granted, name| {
            name == privilege && covers(granted, path)
        })
}

/// Checks, before a batch RPC (`insertTablets`) runs any of its parts, that `user` may
/// insert into every one of its devices: IoTDB checks such a request as a whole.
pub fn check_insert(
    users: &UserStore,
    user: &str,
    device: &model::PartialPath,
    measurements: &[String],
) -> Result<()> {
    if user == SUPERUSER {
        return Ok(());
    }
    check_requirement(
        users,
        user,
        Requirement::Privilege("INSERT_TIMESERIES", series_of(device, measurements)),
    )
}

/// The one access check: `Ok` if `user` may run `stmt`, else `NO_PERMISSION` naming the
/// missing privilege and the first path it is missing on.
pub fn check(users: &UserStore, user: &str, stmt: &Statement) -> Result<()> {
    if user == SUPERUSER {
        return Ok(());
    }
    check_requirement(users, user, requirement(stmt, user))
}

fn check_requirement(users: &UserStore, user: &str, need: Requirement) -> Result<()> {
    match need {
        Requirement::Nothing => Ok(()),
        Requirement::Root(what) => Err(Error::NoPermission(format!(
            "No permissions for this operation, only root can execute {what}"
        ))),
        Requirement::Privilege(privilege, mut paths) => {
            if paths.is_empty() {
                paths.push(all_paths());
            }
            match paths
                .iter()
                .find(|p| !has_privilege(users, user, privilege, p))
            {
                None => Ok(()),
                Some(p) => Err(Error::NoPermission(format!(
                    "No permissions for this operation, please add privilege {privilege} on {p}"
                ))),
            }
        }
    }
}

// ------------------------------------------------------------------ DCL statements

fn holder_words(target: &Grantee) -> (&'static str, &str, PrivilegeHolder<'_>) {
    match target {
        Grantee::User(u) => ("User", u.as_str(), PrivilegeHolder::User(u)),
        Grantee::Role(r) => ("Role", r.as_str(), PrivilegeHolder::Role(r)),
    }
}

fn grant_or_revoke(
    users: &UserStore,
    target: &Grantee,
    written: &[String],
    paths: &[PathPattern],
    grant: bool,
) -> Result<()> {
    let mut names = Vec::with_capacity(written.len());
    for w in written {
        names.push(
            privilege_name(w).ok_or_else(|| Error::SqlParse(format!("no such privilege {w}")))?,
        );
    }
    let root_all = all_paths();
    let paths: Vec<PathPattern> = if paths.is_empty() {
        vec![root_all.clone()]
    } else {
        paths.to_vec()
    };
    if let Some(n) = names.iter().find(|n| !is_path_relevant(n)) {
        if paths.iter().any(|p| p != &root_all) {
            return Err(Error::SqlParse(format!(
                "path independent privilege: [{n}] can only be set on path: root.**"
            )));
        }
    }
    let (kind, who, holder) = holder_words(target);
    if matches!(target, Grantee::User(u) if u == SUPERUSER) {
        return Err(Error::IllegalParameter(if grant {
            "Invalid operation, administrator already has all privileges".into()
        } else {
            "Invalid operation, administrator must have all privileges".into()
        }));
    }
    users.update_privileges(holder, |m: &mut PrivilegeMap| {
        for name in &names {
            for path in &paths {
                if grant {
                    let set = m.entry(path.clone()).or_default();
                    if set.contains(*name) {
                        return Err(Error::AlreadyHasPrivilege(format!(
                            "{kind} {who} already has {name} on {path}"
                        )));
                    }
                    if *name == ALL {
                        set.extend(PRIVILEGES.iter().map(|(n, _)| n.to_string()));
                    } else {
                        set.insert(name.to_string());
                    }
                } else {
                    let missing = || {
                        Error::NotHasPrivilege(format!(
                            "{kind} {who} does not have {name} on {path}"
                        ))
                    };
                    if *name == ALL {
                        m.remove(path).ok_or_else(missing)?;
                    } else if !m.get_mut(path).is_some_and(|s| s.remove(*name)) {
                        return Err(missing());
                    }
                }
            }
        }
        Ok(())
    })
}

fn privilege_line(path: &PathPattern, names: &std::collections::BTreeSet<String>) -> String {
    let mut names: Vec<&String> = names.iter().collect();
    names.sort_by_key(|n| ordinal(n));
    let mut s = format!("{path} :");
    for n in names {
        s.push(' ');
        s.push_str(n);
    }
    s
}

fn shown(path: &PathPattern, on: &[PathPattern]) -> bool {
    on.is_empty() || on.iter().any(|o| covers(o, path))
}

fn list_privileges(users: &UserStore, target: &Grantee, on: &[PathPattern]) -> Result<Outcome> {
    match target {
        Grantee::User(u) if u == SUPERUSER => {
            let mut t = TableBuilder::new(&[("privilege", TSDataType::Text)]);
            for (n, _) in PRIVILEGES {
                t.row(vec![text(*n)]);
            }
            Ok(Outcome::Rows(t.finish(true)))
        }
        Grantee::User(u) => {
            let info = users.user(u)?;
            let mut t =
                TableBuilder::new(&[("role", TSDataType::Text), ("privilege", TSDataType::Text)]);
            let mut rows = Vec::new();
            for (path, names) in &info.privileges {
                if shown(path, on) {
                    rows.push((String::new(), privilege_line(path, names)));
                }
            }
            for role in &info.roles {
                for (path, names) in &users.role(role)? {
                    if shown(path, on) {
                        rows.push((role.clone(), privilege_line(path, names)));
                    }
                }
            }
            for (role, line) in rows {
                t.row(vec![
                    Some(model::Value::Text(role.into_bytes())),
                    text(line),
                ]);
            }
            Ok(Outcome::Rows(t.finish(true)))
        }
        Grantee::Role(r) => {
            let privileges = users.role(r)?;
            let mut t = TableBuilder::new(&[("privilege", TSDataType::Text)]);
            for (path, names) in &privileges {
                if shown(path, on) {
                    t.row(vec![text(privilege_line(path, names))]);
                }
            }
            Ok(Outcome::Rows(t.finish(true)))
        }
    }
}

fn name_list(header: &str, names: Vec<String>) -> Outcome {
    let mut t = TableBuilder::new(&[(header, TSDataType::Text)]);
    for n in names {
        t.row(vec![text(n)]);
    }
    Outcome::Rows(t.finish(true))
}

/// Runs a user/role statement (after [`check`] allowed it).
pub fn execute(engine: &Engine, a: &AuthStatement) -> Result<Outcome> {
    let users = engine.users();
    match a {
        AuthStatement::CreateUser { user, password } => users.create_user(user, password)?,
        AuthStatement::AlterUser { user, password } => users.set_password(user, password)?,
        AuthStatement::DropUser { user } => users.drop_user(user)?,
        AuthStatement::CreateRole { role } => users.create_role(role)?,
        AuthStatement::DropRole { role } => users.drop_role(role)?,
        AuthStatement::Grant {
            target,
            privileges,
            paths,
        } => grant_or_revoke(users, target, privileges, paths, true)?,
        AuthStatement::Revoke {
            target,
            privileges,
            paths,
        } => grant_or_revoke(users, target, privileges, paths, false)?,
        AuthStatement::GrantRoleToUser { role, user } => users.grant_role(role, user)?,
        AuthStatement::RevokeRoleFromUser { role, user } => users.revoke_role(role, user)?,
        AuthStatement::ListUser { of_role: None } => return Ok(name_list("user", users.list())),
        AuthStatement::ListUser { of_role: Some(r) } => {
            return Ok(name_list("user", users.users_of_role(r)?))
        }
        AuthStatement::ListRole { of_user: None } => {
            return Ok(name_list("role", users.list_roles()))
        }
        AuthStatement::ListRole { of_user: Some(u) } => {
            let roles = users.user(u)?.roles.into_iter().collect();
            return Ok(name_list("role", roles));
        }
        AuthStatement::ListPrivileges { target, paths } => {
            return list_privileges(users, target, paths)
        }
    }
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat(s: &str) -> PathPattern {
        PathPattern::parse(s).unwrap()
    }

    #[test]
    fn pattern_inclusion() {
        let yes = [
            ("root.**", "root.sg"),
            ("root.**", "root.sg.d1.s1"),
            ("root.**", "root.**"),
            ("root.**", "root.*.d1.**"),
            ("root.sg.**", "root.sg.d1.s1"),
            ("root.sg.**", "root.sg.*"),
            ("root.sg.*.s1", "root.sg.d1.s1"),
            ("root.sg.*.s1", "root.sg.*.s1"),
            ("root.sg.d*.s1", "root.sg.d12.s1"),
            ("root.sg.d*.s1", "root.sg.d*.s1"),
            ("root.**.s1", "root.sg.d1.s1"),
            ("root.**.s1", "root.**.s1"),
            ("root.sg.d1.s1", "root.sg.d1.s1"),
        ];
        for (g, r) in yes {
            assert!(covers(&pat(g), &pat(r)), "{g} should cover {r}");
        }
        let no = [
            ("root.sg.**", "root.sg"),
            ("root.sg.**", "root.**"),
            ("root.sg.**", "root.sg2.d1"),
            ("root.*.s1", "root.**.s1"),
            ("root.sg.*", "root.sg.d1.s1"),
            ("root.sg.d1.s1", "root.sg.d1.*"),
            ("root.sg.d*.s1", "root.sg.*.s1"),
            ("root.sg.d1.**", "root.sg.**"),
            ("root.**.s1", "root.sg.d1.s2"),
        ];
        for (g, r) in no {
            assert!(!covers(&pat(g), &pat(r)), "{g} should not cover {r}");
        }
    }

    #[test]
    fn statements_need_iotdb_privileges() {
        let need = |sql: &str| requirement(&sql::parse(sql).unwrap(), "alice");
        assert_eq!(
            need("select s1, s2 from root.sg.d1 where s3 > 0"),
            Requirement::Privilege(
                "READ_TIMESERIES",
                vec![
                    pat("root.sg.d1.s1"),
                    pat("root.sg.d1.s2"),
                    pat("root.sg.d1.s3")
                ]
            )
        );
        assert_eq!(
            need("insert into root.sg.d1(time, a, b) values (1, 2, 3)"),
            Requirement::Privilege(
                "INSERT_TIMESERIES",
                vec![pat("root.sg.d1.a"), pat("root.sg.d1.b")]
            )
        );
        assert_eq!(need("flush"), Requirement::Root("FLUSH"));
        assert_eq!(
            need("alter user alice set password 'abcd'"),
            Requirement::Nothing
        );
        assert_eq!(
            need("alter user bobby set password 'abcd'"),
            Requirement::Privilege("MODIFY_PASSWORD", vec![])
        );
        assert_eq!(
            need("create schema template t (s1 INT32)"),
            Requirement::Privilege("UPDATE_TEMPLATE", vec![])
        );
        assert_eq!(
            need("delete from root.sg.d1.s1 where time < 10"),
            Requirement::Privilege("DELETE_TIMESERIES", vec![pat("root.sg.d1.s1")])
        );
    }

    #[test]
    fn privilege_names_and_aliases() {
        assert_eq!(privilege_name("set_storage_group"), Some("CREATE_DATABASE"));
        assert_eq!(privilege_name("READ_TIMESERIES"), Some("READ_TIMESERIES"));
        assert_eq!(privilege_name("READ_DATA"), None);
        assert_eq!(PRIVILEGES.len(), 35);
    }
}
