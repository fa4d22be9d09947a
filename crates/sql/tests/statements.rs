//! Table-driven tests: statements from the IoTDB 1.0 documentation, the seed page and the
//! official Python clients → expected AST; expressions → expected header text; bad input →
//! expected error kind and position.

use model::{CompressionType, PartialPath, PathPattern, TSDataType, TSEncoding};
use sql::ast::*;
use sql::{parse, parse_expression};

fn pat(s: &str) -> PathPattern {
    PathPattern::parse(s).unwrap()
}

fn path(s: &str) -> PartialPath {
    PartialPath::parse(s).unwrap()
}

fn suffix(nodes: &[&str]) -> Expression {
    Expression::Path(PathRef {
        nodes: nodes.iter().map(|n| n.to_string()).collect(),
        full: false,
    })
}

fn full(p: &str) -> Expression {
    Expression::Path(PathRef {
        nodes: p.split('.').map(str::to_string).collect(),
        full: true,
    })
}

fn int(v: i64) -> Expression {
    Expression::Constant(Literal::Integer(v))
}

fn bin(op: BinaryOp, l: Expression, r: Expression) -> Expression {
    Expression::Binary {
        op,
        left: Box::new(l),
        right: Box::new(r),
    }
}

fn query(sql: &str) -> QueryStatement {
    match parse(sql) {
        Ok(Statement::Query(q)) => *q,
        other => panic!("{sql}: expected a query, got {other:?}"),
    }
}

fn base_query(select: Vec<ResultColumn>, from: &[&str]) -> QueryStatement {
    QueryStatement {
        select,
        last: false,
        into: None,
        from: from.iter().map(|p| pat(p)).collect(),
        where_clause: None,
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

fn col(expr: Expression) -> ResultColumn {
    ResultColumn { expr, alias: None }
}

fn spec(t: TSDataType) -> MeasurementSpec {
    MeasurementSpec {
        alias: None,
        data_type: t,
        encoding: None,
        compressor: None,
        props: vec![],
        tags: vec![],
        attributes: vec![],
    }
}

fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn seed_statements() {
    // Python API page / query overview of the seed.
    assert_eq!(
        query("SELECT * FROM root.*"),
        base_query(vec![col(suffix(&["*"]))], &["root.*"])
    );
    assert_eq!(
        query("SELECT ** FROM root"),
        base_query(vec![col(suffix(&["**"]))], &["root"])
    );
    let mut q = base_query(vec![col(suffix(&["*"]))], &["root.ln.wf01.wt01"]);
    q.where_clause = Some(bin(
        BinaryOp::Lt,
        Expression::Time,
        Expression::Constant(Literal::DateTime("2017-11-01T00:08:00.000".into())),
    ));
    assert_eq!(
        query("select * from root.ln.wf01.wt01 where time < 2017-11-01T00:08:00.000"),
        q
    );
    assert_eq!(
        parse("insert into root.cursor(timestamp,temperature) values(1,0.3)").unwrap(),
        Statement::Insert(InsertStatement {
            device: path("root.cursor"),
            measurements: vec!["temperature".into()],
            aligned: false,
            rows: vec![InsertValues {
                time: Some(int(1)),
                values: vec![Literal::Float(0.3, "0.3".into())],
            }],
        })
    );
    assert_eq!(
        parse("SHOW TIMESERIES").unwrap(),
        Statement::ShowTimeseries {
            path: None,
            latest: false,
            filter: None,
            limit: None,
            offset: None
        }
    );
}

#[test]
fn schema_statements() {
    let cases: Vec<(&str, Statement)> = vec![
        (
            "CREATE DATABASE root.ln",
            Statement::CreateDatabase {
                path: pat("root.ln"),
                attributes: DatabaseAttributes::default(),
            },
        ),
        (
            "create storage group root.sg with TTL=3600000 DATA_REPLICATION_FACTOR=1, time_partition_interval = 604800000",
            Statement::CreateDatabase {
                path: pat("root.sg"),
                attributes: DatabaseAttributes {
                    ttl: Some(3_600_000),
                    data_replication_factor: Some(1),
                    time_partition_interval: Some(604_800_000),
                    ..Default::default()
                },
            },
        ),
        (
            "SET STORAGE GROUP TO root.sg_test_01",
            Statement::CreateDatabase {
                path: pat("root.sg_test_01"),
                attributes: DatabaseAttributes::default(),
            },
        ),
        (
            "DELETE DATABASE root.**",
            Statement::DeleteDatabases {
                paths: vec![pat("root.**")],
            },
        ),
        (
            "drop storage group root.sg_test_03, root.sg_test_04;",
            Statement::DeleteDatabases {
                paths: vec![pat("root.sg_test_03"), pat("root.sg_test_04")],
            },
        ),
        ("SHOW DATABASES", Statement::ShowDatabases { path: None }),
        (
            "show storage group root.*",
            Statement::ShowDatabases {
                path: Some(pat("root.*")),
            },
        ),
        (
            "COUNT DATABASES root.sg*",
            Statement::CountDatabases {
                path: Some(pat("root.sg*")),
            },
        ),
        (
            "count storage group",
            Statement::CountDatabases { path: None },
        ),
        (
            "CREATE TIMESERIES root.ln.wf01.wt01.status WITH DATATYPE=BOOLEAN, ENCODING=PLAIN",
            Statement::CreateTimeseries {
                path: path("root.ln.wf01.wt01.status"),
                spec: MeasurementSpec {
                    encoding: Some(TSEncoding::Plain),
                    ..spec(TSDataType::Boolean)
                },
            },
        ),
        (
            "create timeseries root.ln.wf02.wt02.hardware TEXT encoding=PLAIN compressor=SNAPPY",
            Statement::CreateTimeseries {
                path: path("root.ln.wf02.wt02.hardware"),
                spec: MeasurementSpec {
                    encoding: Some(TSEncoding::Plain),
                    compressor: Some(CompressionType::Snappy),
                    ..spec(TSDataType::Text)
                },
            },
        ),
        (
            "create timeseries root.sg.d.s datatype=int64",
            Statement::CreateTimeseries {
                path: path("root.sg.d.s"),
                spec: spec(TSDataType::Int64),
            },
        ),
        (
            "CREATE TIMESERIES root.turbine.d1.s1(temprature) WITH datatype=FLOAT, encoding=RLE, compression=SNAPPY, 'max_point_number'='5' TAGS('tag1'='v1', 'tag2'='v2') ATTRIBUTES('attr1'='v1', 'attr2'='v2')",
            Statement::CreateTimeseries {
                path: path("root.turbine.d1.s1"),
                spec: MeasurementSpec {
                    alias: Some("temprature".into()),
                    data_type: TSDataType::Float,
                    encoding: Some(TSEncoding::Rle),
                    compressor: Some(CompressionType::Snappy),
                    props: kv(&[("MAX_POINT_NUMBER", "5")]),
                    tags: kv(&[("tag1", "v1"), ("tag2", "v2")]),
                    attributes: kv(&[("attr1", "v1"), ("attr2", "v2")]),
                },
            },
        ),
        (
            "create aligned timeseries root.ln.wf01.GPS(latitude FLOAT encoding=PLAIN compressor=SNAPPY, longitude FLOAT encoding=PLAIN compressor=SNAPPY)",
            Statement::CreateAlignedTimeseries {
                device: path("root.ln.wf01.GPS"),
                measurements: vec![
                    (
                        "latitude".into(),
                        MeasurementSpec {
                            encoding: Some(TSEncoding::Plain),
                            compressor: Some(CompressionType::Snappy),
                            ..spec(TSDataType::Float)
                        },
                    ),
                    (
                        "longitude".into(),
                        MeasurementSpec {
                            encoding: Some(TSEncoding::Plain),
                            compressor: Some(CompressionType::Snappy),
                            ..spec(TSDataType::Float)
                        },
                    ),
                ],
            },
        ),
        (
            "DELETE TIMESERIES root.ln.wf01.wt01.status, root.ln.wf01.wt01.*",
            Statement::DeleteTimeseries {
                paths: vec![pat("root.ln.wf01.wt01.status"), pat("root.ln.wf01.wt01.*")],
            },
        ),
        (
            "drop timeseries root.ln.**",
            Statement::DeleteTimeseries {
                paths: vec![pat("root.ln.**")],
            },
        ),
        (
            "ALTER timeseries root.turbine.d1.s1 UPSERT ALIAS=newAlias TAGS(tag3=v3, tag4=v4) ATTRIBUTES(attr3=v3, attr4=v4)",
            Statement::AlterTimeseries {
                path: path("root.turbine.d1.s1"),
                op: AlterOp::Upsert {
                    alias: Some("newAlias".into()),
                    tags: kv(&[("tag3", "v3"), ("tag4", "v4")]),
                    attributes: kv(&[("attr3", "v3"), ("attr4", "v4")]),
                },
            },
        ),
        (
            "ALTER timeseries root.turbine.d1.s1 RENAME tag1 TO newTag1",
            Statement::AlterTimeseries {
                path: path("root.turbine.d1.s1"),
                op: AlterOp::Rename {
                    from: "tag1".into(),
                    to: "newTag1".into(),
                },
            },
        ),
        (
            "ALTER timeseries root.turbine.d1.s1 SET newTag1=newV1, attr1=newV1",
            Statement::AlterTimeseries {
                path: path("root.turbine.d1.s1"),
                op: AlterOp::Set(kv(&[("newTag1", "newV1"), ("attr1", "newV1")])),
            },
        ),
        (
            "ALTER timeseries root.turbine.d1.s1 DROP tag1, tag2",
            Statement::AlterTimeseries {
                path: path("root.turbine.d1.s1"),
                op: AlterOp::Drop(vec!["tag1".into(), "tag2".into()]),
            },
        ),
        (
            "ALTER timeseries root.turbine.d1.s1 ADD TAGS tag3=v3, tag4=v4",
            Statement::AlterTimeseries {
                path: path("root.turbine.d1.s1"),
                op: AlterOp::AddTags(kv(&[("tag3", "v3"), ("tag4", "v4")])),
            },
        ),
        (
            "ALTER timeseries root.turbine.d1.s1 ADD ATTRIBUTES attr3=v3",
            Statement::AlterTimeseries {
                path: path("root.turbine.d1.s1"),
                op: AlterOp::AddAttributes(kv(&[("attr3", "v3")])),
            },
        ),
        (
            "SHOW TIMESERIES root.sg_test_01.d_01.s_07",
            Statement::ShowTimeseries {
                path: Some(pat("root.sg_test_01.d_01.s_07")),
                latest: false,
                filter: None,
                limit: None,
                offset: None,
            },
        ),
        (
            "show timeseries root.ln.** where unit='c' limit 10 offset 5",
            Statement::ShowTimeseries {
                path: Some(pat("root.ln.**")),
                latest: false,
                filter: Some(TagFilter::Equals {
                    key: "unit".into(),
                    value: "c".into(),
                }),
                limit: Some(10),
                offset: Some(5),
            },
        ),
        (
            "show latest timeseries where description contains 'test1'",
            Statement::ShowTimeseries {
                path: None,
                latest: true,
                filter: Some(TagFilter::Contains {
                    key: "description".into(),
                    value: "test1".into(),
                }),
                limit: None,
                offset: None,
            },
        ),
        (
            "COUNT TIMESERIES root.ln.** GROUP BY LEVEL=2",
            Statement::CountTimeseries {
                path: Some(pat("root.ln.**")),
                filter: None,
                group_by_level: Some(2),
            },
        ),
        (
            "SHOW DEVICES root.ln.** WITH STORAGE GROUP limit 2 offset 1",
            Statement::ShowDevices {
                path: Some(pat("root.ln.**")),
                with_database: true,
                limit: Some(2),
                offset: Some(1),
            },
        ),
        (
            "show devices",
            Statement::ShowDevices {
                path: None,
                with_database: false,
                limit: None,
                offset: None,
            },
        ),
        (
            "COUNT DEVICES root.ln.**",
            Statement::CountDevices {
                path: Some(pat("root.ln.**")),
            },
        ),
        (
            "show child paths root.ln",
            Statement::ShowChildPaths {
                path: Some(pat("root.ln")),
            },
        ),
        (
            "SHOW CHILD NODES",
            Statement::ShowChildNodes { path: None },
        ),
        (
            "COUNT NODES root.** LEVEL=2",
            Statement::CountNodes {
                path: pat("root.**"),
                level: 2,
            },
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(
            parse(sql).unwrap_or_else(|e| panic!("{sql}: {e}")),
            expected,
            "{sql}"
        );
    }
}

#[test]
fn template_statements() {
    let cases: Vec<(&str, Statement)> = vec![
        (
            "create schema template t1 (temperature FLOAT encoding=RLE, status BOOLEAN encoding=PLAIN compression=SNAPPY)",
            Statement::CreateSchemaTemplate {
                name: "t1".into(),
                aligned: false,
                measurements: vec![
                    (
                        "temperature".into(),
                        MeasurementSpec {
                            encoding: Some(TSEncoding::Rle),
                            ..spec(TSDataType::Float)
                        },
                    ),
                    (
                        "status".into(),
                        MeasurementSpec {
                            encoding: Some(TSEncoding::Plain),
                            compressor: Some(CompressionType::Snappy),
                            ..spec(TSDataType::Boolean)
                        },
                    ),
                ],
            },
        ),
        (
            "create schema template t2 aligned (lat FLOAT encoding=Gorilla, lon FLOAT encoding=Gorilla)",
            Statement::CreateSchemaTemplate {
                name: "t2".into(),
                aligned: true,
                measurements: vec![
                    (
                        "lat".into(),
                        MeasurementSpec {
                            encoding: Some(TSEncoding::Gorilla),
                            ..spec(TSDataType::Float)
                        },
                    ),
                    (
                        "lon".into(),
                        MeasurementSpec {
                            encoding: Some(TSEncoding::Gorilla),
                            ..spec(TSDataType::Float)
                        },
                    ),
                ],
            },
        ),
        (
            "set schema template t1 to root.sg1.d1",
            Statement::SetSchemaTemplate {
                name: "t1".into(),
                path: pat("root.sg1.d1"),
            },
        ),
        (
            "unset schema template t1 from root.sg1.d1",
            Statement::UnsetSchemaTemplate {
                name: "t1".into(),
                path: pat("root.sg1.d1"),
            },
        ),
        (
            "create timeseries of schema template on root.sg1.d1",
            Statement::ActivateSchemaTemplate {
                path: pat("root.sg1.d1"),
            },
        ),
        (
            "CREATE TIMESERIES USING SCHEMA TEMPLATE ON root.sg1.d2",
            Statement::ActivateSchemaTemplate {
                path: pat("root.sg1.d2"),
            },
        ),
        (
            "deactivate schema template t1 from root.sg1.d1, root.sg2.*",
            Statement::DeactivateSchemaTemplate {
                name: Some("t1".into()),
                paths: vec![pat("root.sg1.d1"), pat("root.sg2.*")],
            },
        ),
        (
            "delete timeseries of schema template from root.**",
            Statement::DeactivateSchemaTemplate {
                name: None,
                paths: vec![pat("root.**")],
            },
        ),
        (
            "drop schema template t1",
            Statement::DropSchemaTemplate { name: "t1".into() },
        ),
        ("show schema templates", Statement::ShowSchemaTemplates),
        (
            "show nodes in schema template t1",
            Statement::ShowNodesInSchemaTemplate { name: "t1".into() },
        ),
        (
            "show paths set schema template t1",
            Statement::ShowPathsSetSchemaTemplate { name: "t1".into() },
        ),
        (
            "show paths using schema template t1",
            Statement::ShowPathsUsingSchemaTemplate {
                path: None,
                name: "t1".into(),
            },
        ),
        (
            "show paths root.sg1.** using schema template `t 1`",
            Statement::ShowPathsUsingSchemaTemplate {
                path: Some(pat("root.sg1.**")),
                name: "t 1".into(),
            },
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(
            parse(sql).unwrap_or_else(|e| panic!("{sql}: {e}")),
            expected,
            "{sql}"
        );
    }
}

#[test]
fn data_and_utility_statements() {
    let cases: Vec<(&str, Statement)> = vec![
        (
            "insert into root.sg_test_01.d_01(timestamp, s_02) values(16, 188)",
            Statement::Insert(InsertStatement {
                device: path("root.sg_test_01.d_01"),
                measurements: vec!["s_02".into()],
                aligned: false,
                rows: vec![InsertValues {
                    time: Some(int(16)),
                    values: vec![Literal::Integer(188)],
                }],
            }),
        ),
        (
            "INSERT INTO root.ln.wf02.wt02(TIME, status, hardware) ALIGNED VALUES (2017-11-01T00:02:00+08:00, false, 'v2'), (now(), TRUE, \"a\"\"b\"), (-3, null, NaN)",
            Statement::Insert(InsertStatement {
                device: path("root.ln.wf02.wt02"),
                measurements: vec!["status".into(), "hardware".into()],
                aligned: true,
                rows: vec![
                    InsertValues {
                        time: Some(Expression::Constant(Literal::DateTime(
                            "2017-11-01T00:02:00+08:00".into(),
                        ))),
                        values: vec![Literal::Boolean(false), Literal::String("v2".into())],
                    },
                    InsertValues {
                        time: Some(Expression::Constant(Literal::Now)),
                        values: vec![Literal::Boolean(true), Literal::String("a\"b".into())],
                    },
                    InsertValues {
                        time: Some(int(-3)),
                        values: vec![Literal::Null, Literal::NaN],
                    },
                ],
            }),
        ),
        (
            "insert into root.sg.d1(s1, s2) values(-1.5e3, 12345678901234567890)",
            Statement::Insert(InsertStatement {
                device: path("root.sg.d1"),
                measurements: vec!["s1".into(), "s2".into()],
                aligned: false,
                rows: vec![InsertValues {
                    time: None,
                    values: vec![
                        Literal::Float(-1500.0, "-1.5e3".into()),
                        Literal::Float(12345678901234567890.0, "12345678901234567890".into()),
                    ],
                }],
            }),
        ),
        (
            "insert into root.sg.`d.1`(timestamp, `s 1`) values(2017-11-01T00:00:00 + 1d, 1)",
            Statement::Insert(InsertStatement {
                device: path("root.sg.`d.1`"),
                measurements: vec!["`s 1`".into()],
                aligned: false,
                rows: vec![InsertValues {
                    time: Some(bin(
                        BinaryOp::Add,
                        Expression::Constant(Literal::DateTime("2017-11-01T00:00:00".into())),
                        Expression::Constant(Literal::Duration(86_400_000)),
                    )),
                    values: vec![Literal::Integer(1)],
                }],
            }),
        ),
        (
            "DELETE FROM root.ln.wf02.wt02.status WHERE time <= 2017-11-01T16:26:00",
            Statement::Delete {
                paths: vec![pat("root.ln.wf02.wt02.status")],
                where_clause: Some(bin(
                    BinaryOp::LtEq,
                    Expression::Time,
                    Expression::Constant(Literal::DateTime("2017-11-01T16:26:00".into())),
                )),
            },
        ),
        (
            "delete from root.ln.wf02.wt02.*, root.ln.wf01.**",
            Statement::Delete {
                paths: vec![pat("root.ln.wf02.wt02.*"), pat("root.ln.wf01.**")],
                where_clause: None,
            },
        ),
        (
            "DELETE PARTITION root.ln 0,1,2",
            Statement::DeletePartition {
                path: pat("root.ln"),
                partitions: vec![0, 1, 2],
            },
        ),
        ("SHOW VERSION", Statement::ShowVersion),
        (
            "flush",
            Statement::Flush {
                paths: vec![],
                sequence: None,
                scope: None,
            },
        ),
        (
            "FLUSH root.ln, root.sg true ON CLUSTER",
            Statement::Flush {
                paths: vec![pat("root.ln"), pat("root.sg")],
                sequence: Some(true),
                scope: Some(Scope::Cluster),
            },
        ),
        (
            "set ttl to root.ln 3600000",
            Statement::SetTtl {
                path: pat("root.ln"),
                ttl: 3_600_000,
            },
        ),
        (
            "unset ttl to root.sgcc.**",
            Statement::UnsetTtl {
                path: pat("root.sgcc.**"),
            },
        ),
        (
            "SHOW TTL ON root.ln, root.sgcc",
            Statement::ShowTtl {
                paths: vec![pat("root.ln"), pat("root.sgcc")],
            },
        ),
        ("SHOW ALL TTL", Statement::ShowAllTtl),
        ("show cluster", Statement::ShowCluster { details: false }),
        ("show cluster details", Statement::ShowCluster { details: true }),
        ("show datanodes", Statement::ShowDataNodes),
        ("show confignodes", Statement::ShowConfigNodes),
        (
            "show data regions of database root.sg, root.sg2",
            Statement::ShowRegions {
                kind: Some(RegionKind::Data),
                databases: vec![pat("root.sg"), pat("root.sg2")],
            },
        ),
        (
            "show regions",
            Statement::ShowRegions {
                kind: None,
                databases: vec![],
            },
        ),
        ("show variables", Statement::ShowVariables),
        ("show functions", Statement::ShowFunctions),
        ("show triggers", Statement::ShowTriggers),
        ("show continuous queries", Statement::ShowContinuousQueries),
        (
            "show queries where elapsedtime > 0.003 order by elapsedtime desc limit 1",
            Statement::ShowQueries {
                where_clause: Some(bin(
                    BinaryOp::Gt,
                    suffix(&["elapsedtime"]),
                    Expression::Constant(Literal::Float(0.003, "0.003".into())),
                )),
                order_by: vec![OrderBy {
                    key: SortKey::ElapsedTime,
                    descending: true,
                }],
                limit: Some(1),
                offset: None,
            },
        ),
        (
            "KILL QUERY '20221205_114444_00003_5'",
            Statement::KillQuery {
                query_id: Some("20221205_114444_00003_5".into()),
            },
        ),
        ("kill all queries", Statement::KillQuery { query_id: None }),
        ("clear cache", Statement::ClearCache { scope: None }),
        (
            "merge on local",
            Statement::Merge {
                full: false,
                scope: Some(Scope::Local),
            },
        ),
        (
            "FULL MERGE",
            Statement::Merge {
                full: true,
                scope: None,
            },
        ),
        (
            "set system to running",
            Statement::SetSystemStatus {
                readonly: false,
                scope: None,
            },
        ),
        (
            "load '/data/a.tsfile' sglevel=2, verify=false onsuccess=none",
            Statement::LoadFile {
                file: "/data/a.tsfile".into(),
                options: LoadOptions {
                    sglevel: Some(2),
                    verify: Some(false),
                    delete_on_success: Some(false),
                },
            },
        ),
        (
            "explain select s1 from root.sg.d1",
            Statement::Explain(Box::new(base_query(
                vec![col(suffix(&["s1"]))],
                &["root.sg.d1"],
            ))),
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(
            parse(sql).unwrap_or_else(|e| panic!("{sql}: {e}")),
            expected,
            "{sql}"
        );
    }
}

#[test]
fn auth_statements() {
    let a = |s: AuthStatement| Statement::Auth(s);
    let cases: Vec<(&str, Statement)> = vec![
        (
            "CREATE USER ln_write_user 'write_pwd'",
            a(AuthStatement::CreateUser {
                user: "ln_write_user".into(),
                password: "write_pwd".into(),
            }),
        ),
        (
            "ALTER USER root SET PASSWORD 'newpwd'",
            a(AuthStatement::AlterUser {
                user: "root".into(),
                password: "newpwd".into(),
            }),
        ),
        (
            "DROP USER `xiaoming`",
            a(AuthStatement::DropUser {
                user: "xiaoming".into(),
            }),
        ),
        (
            "CREATE ROLE admin",
            a(AuthStatement::CreateRole {
                role: "admin".into(),
            }),
        ),
        (
            "drop role admin",
            a(AuthStatement::DropRole {
                role: "admin".into(),
            }),
        ),
        (
            "GRANT USER ln_write_user PRIVILEGES INSERT_TIMESERIES, read_timeseries on root.ln.**, root.sg",
            a(AuthStatement::Grant {
                target: Grantee::User("ln_write_user".into()),
                privileges: vec!["INSERT_TIMESERIES".into(), "READ_TIMESERIES".into()],
                paths: vec![pat("root.ln.**"), pat("root.sg")],
            }),
        ),
        (
            "REVOKE ROLE temprole PRIVILEGES ALL",
            a(AuthStatement::Revoke {
                target: Grantee::Role("temprole".into()),
                privileges: vec!["ALL".into()],
                paths: vec![],
            }),
        ),
        (
            "GRANT temprole TO xiaoming",
            a(AuthStatement::GrantRoleToUser {
                role: "temprole".into(),
                user: "xiaoming".into(),
            }),
        ),
        (
            "REVOKE temprole FROM xiaoming",
            a(AuthStatement::RevokeRoleFromUser {
                role: "temprole".into(),
                user: "xiaoming".into(),
            }),
        ),
        ("LIST USER", a(AuthStatement::ListUser { of_role: None })),
        (
            "LIST ROLE OF USER root",
            a(AuthStatement::ListRole {
                of_user: Some("root".into()),
            }),
        ),
        (
            "LIST PRIVILEGES ROLE admin ON root.sgcc.**",
            a(AuthStatement::ListPrivileges {
                target: Grantee::Role("admin".into()),
                paths: vec![pat("root.sgcc.**")],
            }),
        ),
    ];
    for (sql, expected) in cases {
        assert_eq!(
            parse(sql).unwrap_or_else(|e| panic!("{sql}: {e}")),
            expected,
            "{sql}"
        );
    }
}

#[test]
fn select_clauses() {
    let q = query(
        "select count(status), max_value(temperature) from root.ln.wf01.wt01 \
         group by ([2017-11-01T00:00:00, 2017-11-07T23:00:00), 3h, 1d), level = 1, 2 \
         having count(status) > 1 order by time desc fill(previous) \
         slimit 2 soffset 1 limit 10 offset 3",
    );
    let g = q.group_by.expect("group by");
    let tw = g.time.expect("time window");
    assert_eq!(
        tw.start,
        Some(Expression::Constant(Literal::DateTime(
            "2017-11-01T00:00:00".into()
        )))
    );
    assert!(!tw.left_open);
    assert_eq!(
        tw.interval,
        Interval {
            months: 0,
            millis: 3 * 3_600_000,
            text: "3h".into()
        }
    );
    assert_eq!(tw.step.map(|s| s.millis), Some(86_400_000));
    assert_eq!(g.level, vec![1, 2]);
    assert!(q.having.is_some());
    assert_eq!(
        q.order_by,
        vec![OrderBy {
            key: SortKey::Time,
            descending: true
        }]
    );
    assert_eq!(q.fill, Some(Fill::Previous));
    assert_eq!(
        (q.slimit, q.soffset, q.limit, q.offset),
        (Some(2), Some(1), Some(10), Some(3))
    );

    let q = query("select s1 from root.sg.d1 fill(previous, 1m)");
    assert_eq!(
        q.fill,
        Some(Fill::PreviousWithin(Interval {
            months: 0,
            millis: 60_000,
            text: "1m".into()
        }))
    );

    // left-open window, calendar months, FILL before ORDER BY, integer range, no range
    let q = query(
        "select sum(s1) from root.sg.d1 group by time ((0, 100], 1mo2d) fill(linear) order by time asc",
    );
    let tw = q.group_by.unwrap().time.unwrap();
    assert!(tw.left_open);
    assert_eq!(
        (tw.interval.months, tw.interval.millis),
        (1, 2 * 86_400_000)
    );
    assert_eq!(q.fill, Some(Fill::Linear));
    let q = query("select count(s1) from root.sg.d1 group by ([-10, 10), 2ms)");
    assert_eq!(q.group_by.unwrap().time.unwrap().start, Some(int(-10)));
    let q = query("select count(s1) from root.sg.d1 where time > 1 group by (10ms)");
    assert_eq!(q.group_by.unwrap().time.unwrap().start, None);

    let q = query("select avg(temperature) from root.factory1.** group by tags(city, workshop)");
    assert_eq!(
        q.group_by.unwrap().tags,
        vec!["city".to_string(), "workshop".to_string()]
    );

    let q = query("select s1 from root.sg.d1 fill(1.5)");
    assert_eq!(
        q.fill,
        Some(Fill::Constant(Literal::Float(1.5, "1.5".into())))
    );
    let q = query("select s1 from root.sg.d1 fill('x') align by device");
    assert_eq!(q.fill, Some(Fill::Constant(Literal::String("x".into()))));
    assert!(q.align_by_device);
    let q = query("select * from root.sg.* align by time");
    assert!(!q.align_by_device);

    let q = query(
        "select last s1, root.sg.d2.s2 from root.sg.d1 where time > 10 order by timeseries desc",
    );
    assert!(q.last);
    assert_eq!(q.select[1].expr, full("root.sg.d2.s2"));
    let q = query("select last from root.sg.d1");
    assert!(!q.last, "a series named `last`");

    let q = query("select s1 as temperature, s2 as 'my alias' from root.sg.d1");
    assert_eq!(q.select[0].alias.as_deref(), Some("temperature"));
    assert_eq!(q.select[1].alias.as_deref(), Some("my alias"));

    let q = query("select s1, s2 into root.sg.d2(t1, t2), aligned ::(::) from root.sg.d1");
    let into = q.into.unwrap();
    assert_eq!(into[0].device, vec!["root", "sg", "d2"]);
    assert!(into[0].full);
    assert_eq!(into[1].measurements, vec!["::"]);
    assert!(into[1].aligned);

    // LIMIT/SLIMIT pairs in either order, DEBUG prefix, `;`
    let q = query("DEBUG select * from root.sg.d1 offset 1 limit 2 soffset 3 slimit 4;");
    assert_eq!(
        (q.limit, q.offset, q.slimit, q.soffset),
        (Some(2), Some(1), Some(4), Some(3))
    );
}

#[test]
fn paths_and_nodes() {
    let q = query(
        "select last s1, d1.s2, `a.b`, `111`, *, **, s*, *1, root.sg.`x``y`, 中文 from root.sg.`my.dev`, root.*.wf*, ROOT.a",
    );
    let heads: Vec<String> = q.select.iter().map(|c| c.expr.to_string()).collect();
    assert_eq!(
        heads,
        vec![
            "s1",
            "d1.s2",
            "`a.b`",
            "`111`",
            "*",
            "**",
            "s*",
            "*1",
            "root.sg.`x``y`",
            "中文"
        ]
    );
    assert_eq!(
        q.from,
        vec![pat("root.sg.`my.dev`"), pat("root.*.wf*"), pat("root.a")]
    );
    // keywords are fine as node names, back-quoted names that need no quoting are bare
    let q = query("select `s1`, select from root.sg.device.`limit`");
    assert_eq!(q.select[0].expr, suffix(&["s1"]));
    assert_eq!(q.select[1].expr, suffix(&["select"]));
    assert_eq!(q.from, vec![pat("root.sg.device.limit")]);
    // the operator words are node names where a node stands, operators where one stands
    let q = query("select in, is, contains, between, and, or, not from root.kw.in.and");
    let names = ["in", "is", "contains", "between", "and", "or", "not"];
    for (item, name) in q.select.iter().zip(names) {
        assert_eq!(item.expr, suffix(&[name]));
    }
    assert_eq!(q.from, vec![pat("root.kw.in.and")]);
    let q = query("select not s from root.sg where between between 0 and 10 and in > 1");
    assert!(matches!(
        q.select[0].expr,
        Expression::Unary {
            op: UnaryOp::Not,
            ..
        }
    ));
    let Some(Expression::Binary { left, right, .. }) = q.where_clause else {
        panic!("expected AND");
    };
    assert!(matches!(*left, Expression::Between { .. }));
    assert!(matches!(
        *right,
        Expression::Binary {
            op: BinaryOp::Gt,
            ..
        }
    ));
    // node names may start with digits
    let q = query("select 2a from root.sg.1b");
    assert_eq!(q.select[0].expr, suffix(&["2a"]));
    assert_eq!(q.from, vec![pat("root.sg.1b")]);
}

/// SQL text → header (Display) of the first select item.
#[test]
fn header_text() {
    let cases = [
        ("root.sg.d1.s1", "root.sg.d1.s1"),
        ("count(root.sg.d.s)", "count(root.sg.d.s)"),
        ("COUNT(root.sg1.d4.s3)", "COUNT(root.sg1.d4.s3)"),
        ("max_value(temperature)", "max_value(temperature)"),
        ("count(*)", "count(*)"),
        ("a * b", "a * b"),
        ("(a + b) * 3", "(a + b) * 3"),
        ("a+b*3", "a + b * 3"),
        ("sin(a + sin(b))", "sin(a + sin(b))"),
        (
            "((((a + 1) * 2) - 1) % 2) + 1.5",
            "((a + 1) * 2 - 1) % 2 + 1.5",
        ),
        ("a - (b - c)", "a - b - c"),
        ("a / (b * c)", "a / b * c"),
        ("-a", "-a"),
        ("-(a + 1)", "-(a + 1)"),
        ("- -1", "-(-1)"),
        ("-2", "-2"),
        ("+a", "a"),
        ("a + -1", "a + -1"),
        ("!a", "!a"),
        ("not (a > 1)", "!(a > 1)"),
        ("s1 * 2.50", "s1 * 2.50"),
        ("s1 + 1e3", "s1 + 1e3"),
        ("s1 + .5", "s1 + .5"),
        ("s1 + 'x'", "s1 + \"x\""),
        ("top_k(s1, 'k'='2')", "top_k(s1, \"k\"=\"2\")"),
        (
            "equal_size_bucket_random_sample(temperature,'proportion'='0.1')",
            "equal_size_bucket_random_sample(temperature, \"proportion\"=\"0.1\")",
        ),
        ("cast(s1 as int64)", "CAST(s1 AS INT64)"),
        ("time", "Time"),
        ("s1 > 1 and s2 < 2 or not s3", "s1 > 1 & s2 < 2 | !s3"),
        ("(s1 > 1 or s2 < 2) and s3", "(s1 > 1 | s2 < 2) & s3"),
        ("s1 in (1, 'a', -2.5)", "s1 IN (1, a, -2.5)"),
        ("s1 not in (1)", "s1 NOT IN (1)"),
        ("s1 like 'a%'", "s1 LIKE 'a%'"),
        ("s1 not regexp '^a'", "s1 NOT REGEXP '^a'"),
        ("s1 is not null", "s1 IS NOT NULL"),
        ("time between 1 and 2", "Time BETWEEN 1 AND 2"),
        ("time not between 1 and 2", "Time NOT BETWEEN 1 AND 2"),
        (
            "s1 == 1 && s2 <> 2 || s3 != 3",
            "s1 = 1 & s2 != 2 | s3 != 3",
        ),
        ("now() - 1d", "now() - 86400000ms"),
    ];
    for (text, header) in cases {
        let e = parse_expression(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        if e.has_full_path() {
            // a full path is refused in the select list of a SQL query (IoTDB 2.0: 701)
            let sql = format!("select {text} from root.sg");
            assert_eq!(parse(&sql).unwrap_err().status_code().code(), 701, "{sql}");
        } else {
            let sql = format!("select {text} from root.sg");
            let q = query(&sql);
            assert_eq!(q.select[0].expr.to_string(), header, "{sql}");
        }
        let e = parse_expression(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(e.to_string(), header, "{text}");
    }
}

#[test]
fn operator_precedence() {
    // unary > * / % > + - > comparisons > LIKE/REGEXP > BETWEEN > IS NULL > IN > AND > OR
    let e = parse_expression("a + b * c > 1 or d = 2 and e < 3").unwrap();
    assert_eq!(
        e,
        bin(
            BinaryOp::Or,
            bin(
                BinaryOp::Gt,
                bin(
                    BinaryOp::Add,
                    suffix(&["a"]),
                    bin(BinaryOp::Mul, suffix(&["b"]), suffix(&["c"]))
                ),
                int(1)
            ),
            bin(
                BinaryOp::And,
                bin(BinaryOp::Eq, suffix(&["d"]), int(2)),
                bin(BinaryOp::Lt, suffix(&["e"]), int(3))
            )
        )
    );
    let e = parse_expression("time >= 1 and time between 1 and 5 and s1 in (1,2)").unwrap();
    let Expression::Binary {
        op: BinaryOp::And,
        left,
        right,
    } = e
    else {
        panic!("and expected")
    };
    assert!(matches!(*right, Expression::In { negated: false, .. }));
    assert!(matches!(
        *left,
        Expression::Binary {
            op: BinaryOp::And,
            ..
        }
    ));
    // a minus sign before a number is part of the constant; elsewhere it is an operator
    assert_eq!(
        parse_expression("a -1").unwrap(),
        bin(BinaryOp::Sub, suffix(&["a"]), int(1))
    );
    assert_eq!(
        parse_expression("-1 * a").unwrap(),
        bin(BinaryOp::Mul, int(-1), suffix(&["a"]))
    );
    // `s1*` is a wildcard node only where a multiplication cannot follow
    assert_eq!(parse_expression("s1*").unwrap(), suffix(&["s1*"]));
    assert_eq!(
        parse_expression("s1*s2").unwrap(),
        bin(BinaryOp::Mul, suffix(&["s1"]), suffix(&["s2"]))
    );
    assert_eq!(
        parse_expression("count(s*)").unwrap().to_string(),
        "count(s*)"
    );
    // date arithmetic
    assert_eq!(
        parse_expression("time > now() - 1h30m").unwrap(),
        bin(
            BinaryOp::Gt,
            Expression::Time,
            bin(
                BinaryOp::Sub,
                Expression::Constant(Literal::Now),
                Expression::Constant(Literal::Duration(5_400_000))
            )
        )
    );
}

#[test]
fn not_supported_yet() {
    for sql in [
        "create function example AS 'org.apache.iotdb.udf.UDTFExample'",
        "drop function example",
        "CREATE TRIGGER t BEFORE INSERT ON root.sg.d.s AS 'x'",
        "create continuous query cq1 begin select count(s1) into root.x(y) from root.sg group by(1h) end",
        "show pipes",
        "start trigger t",
        "settle root.sg",
        "load configuration",
        "insert into root.sg.d(time, (s1, s2)) values(1, (1, 2))",
    ] {
        match parse(sql) {
            Err(e @ model::Error::Unsupported(_)) => {
                assert!(e.to_string().contains("not supported yet"), "{sql}: {e}");
                assert_eq!(e.status_code().code(), 300);
            }
            Err(model::Error::SqlParse(m)) if sql.starts_with("insert") => {
                // the tuple column form is rejected by the grammar itself
                assert!(m.contains("line 1:"), "{m}");
            }
            other => panic!("{sql}: {other:?}"),
        }
    }
}

/// (sql, expected status code, expected message fragment)
#[test]
fn errors_name_position_and_expectation() {
    let cases = [
        (
            "selec * from root",
            700,
            "line 1:0 mismatched input 'selec' expecting {ALTER",
        ),
        (
            "select * from",
            700,
            "line 1:13 mismatched input '<EOF>' expecting ROOT",
        ),
        (
            "select * from sg.d1",
            700,
            "line 1:14 mismatched input 'sg' expecting ROOT",
        ),
        (
            "select * from root.sg where",
            700,
            "line 1:27 mismatched input '<EOF>' expecting an expression",
        ),
        (
            "select count() from root.sg",
            700,
            "line 1:13 mismatched input ')' expecting an expression",
        ),
        (
            "insert into root.sg.d(time, b) values (1, X'0a1')",
            700,
            "line 1:42 invalid binary literal X'0a1'",
        ),
        (
            "select s1 from root.sg.d1 limit 10 extra",
            700,
            "line 1:35 extraneous input 'extra' expecting <EOF>",
        ),
        (
            "select *\nfrom root.sg\nwhere time > ",
            700,
            "line 3:13 mismatched input '<EOF>' expecting an expression",
        ),
        (
            "insert into root.sg.d1(timestamp, s1) values(1, 2",
            700,
            "line 1:49 mismatched input '<EOF>' expecting {',', ')'}",
        ),
        (
            "insert into root.sg.d1(timestamp, s1) values(1.5, 2)",
            700,
            "line 1:45 mismatched input '1' expecting a time value",
        ),
        (
            "select s1 from root.sg.time",
            700,
            "line 1:23 mismatched input 'time'",
        ),
        (
            "select s1 from root.sg.123",
            700,
            "line 1:23 mismatched input '123'",
        ),
        (
            "select s1 from root.sg.1d",
            700,
            "line 1:23 mismatched input '1d'",
        ),
        (
            "select s1 from root.sg.``",
            700,
            "line 1:23 mismatched input '``'",
        ),
        (
            "create timeseries root.sg.* int32",
            700,
            "line 1:26 mismatched input '*'",
        ),
        (
            "insert into root.sg.*(time, s1) values(1, 1)",
            700,
            "line 1:20",
        ),
        (
            "select s1 from root.sg where s1 > 'open",
            700,
            "token recognition error",
        ),
        (
            "select s1 ^ 2 from root.sg",
            700,
            "line 1:10 token recognition error at: '^'",
        ),
        (
            "select s1 from root.sg where s1 like 1",
            700,
            "expecting STRING_LITERAL",
        ),
        (
            "select s1 from root.sg limit 1 fill(previous)",
            700,
            "extraneous input 'fill'",
        ),
        (
            "select s1 from root.sg align by device limit 1",
            700,
            "extraneous input 'limit'",
        ),
        (
            "select s1 from root.sg limit 1 limit 2",
            700,
            "extraneous input 'limit'",
        ),
        (
            "show timeseries root.sg where",
            700,
            "line 1:29 mismatched input '<EOF>' expecting a tag key",
        ),
        ("count nodes root.** level", 700, "expecting '='"),
        ("group by level=1", 700, "line 1:0"),
        ("", 700, "line 1:0 mismatched input '<EOF>'"),
        (";", 700, "line 1:0 mismatched input ';'"),
        (
            "select s1 from root.sg; select s2 from root.sg",
            700,
            "extraneous input 'select'",
        ),
        (
            "select s1 from root.sg.d1 limit 0",
            701,
            "LIMIT <N>: N should be greater than 0.",
        ),
        (
            "select s1 from root.sg.d1 limit 2147483648",
            701,
            "Out of range. LIMIT <N>: N should be Int32.",
        ),
        (
            "select s1 from root.sg.d1 slimit 0",
            701,
            "SLIMIT <SN>: SN should be greater than 0.",
        ),
        (
            "insert into root.sg.d1(s1) values(1), (2)",
            701,
            "need timestamps when insert multi rows",
        ),
        (
            "insert into root.sg.d1(timestamp, s1, s2) values(1, 2)",
            701,
            "the measurementList's size 2 is not consistent with the valueList's size 1",
        ),
        (
            "select sin(1) from root.sg.d1",
            701,
            "all the arguments are constant operands: sin(1)",
        ),
        (
            "select udf(s1, 'k'=2) from root.sg.d1",
            701,
            "Attributes of functions should be quoted",
        ),
        (
            "create timeseries root.sg.d.s INT8",
            701,
            "Unsupported datatype: INT8",
        ),
        (
            "create timeseries root.sg.d.s with datatype=INT32, encoding=FOO",
            701,
            "Unsupported encoding: FOO",
        ),
        (
            "create timeseries root.sg.d.s with encoding=RLE, datatype=INT32",
            701,
            "expecting datatype",
        ),
    ];
    for (sql, code, fragment) in cases {
        match parse(sql) {
            Ok(s) => panic!("{sql}: parsed as {s:?}"),
            Err(e) => {
                let msg = e.to_string();
                assert_eq!(e.status_code().code(), code, "{sql}: {msg}");
                assert!(msg.contains(fragment), "{sql}: `{msg}` lacks `{fragment}`");
            }
        }
    }
}

#[test]
fn case_insensitive_keywords_case_sensitive_names() {
    let a = parse("SeLeCt S1 FrOm RoOt.Sg.D1 WhErE TiMe > 1 LiMiT 1").unwrap();
    let Statement::Query(q) = a else {
        panic!("query")
    };
    assert_eq!(q.select[0].expr, suffix(&["S1"]));
    assert_eq!(q.from, vec![pat("root.Sg.D1")]);
    assert_eq!(q.limit, Some(1));
    assert_eq!(
        parse("create schema template T1 (s1 int32)").unwrap(),
        Statement::CreateSchemaTemplate {
            name: "T1".into(),
            aligned: false,
            measurements: vec![("s1".into(), spec(TSDataType::Int32))],
        }
    );
}
