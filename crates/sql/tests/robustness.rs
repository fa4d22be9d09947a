//! Robustness: random input never panics, nesting is capped with a clean error, large inputs
//! parse in linear time, and generated expression trees survive a print → parse round trip.

use proptest::prelude::*;
use sql::ast::*;
use sql::{parse, parse_expression, MAX_DEPTH, MAX_NESTING};

/// Runs `f` on a thread with a deliberately small stack (debug builds use the most stack).
fn with_stack<T: Send + 'static>(bytes: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(bytes)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no stack overflow / panic")
}

fn is_parse_error(r: &model::Result<Statement>) -> bool {
    matches!(r, Err(model::Error::SqlParse(m)) if m.contains("nested too deeply"))
}

#[test]
fn nesting_is_capped_cleanly() {
    // (prefix, suffix, parser recursion levels per repetition, tree levels per repetition)
    let kinds = [
        ("(", ")", 1, 0),
        ("sin(", ")", 2, 1),
        ("-", "", 1, 1),
        ("not ", "", 1, 1),
        ("!", "", 1, 1),
    ];
    for (open, close, nest, tree) in kinds {
        let sql = |n: usize| {
            format!(
                "select {}s1{} from root.sg",
                open.repeat(n),
                close.repeat(n)
            )
        };
        let max_nest = (MAX_NESTING - 2) / nest;
        let n = match (MAX_DEPTH - 2).checked_div(tree) {
            Some(by_depth) => max_nest.min(by_depth),
            None => max_nest,
        };
        // within the caps: parses on a small (256 KiB) thread stack, and the tree prints,
        // clones, compares and drops within 1 MiB (derived impls recurse once per level)
        let text = sql(n);
        let st = with_stack(256 << 10, move || parse(&text))
            .unwrap_or_else(|e| panic!("{open} x{n}: {e}"));
        with_stack(1 << 20, move || {
            let Statement::Query(q) = &st else {
                panic!("query")
            };
            assert!(!q.select[0].expr.to_string().is_empty());
            assert_eq!(st.clone(), st);
        });
        // far beyond the caps: a clean SqlParse error, even on a small stack
        let deep = sql(100_000);
        let r = with_stack(256 << 10, move || parse(&deep));
        assert!(is_parse_error(&r), "{open}: {r:?}");
    }
}

#[test]
fn long_operator_chains_are_bounded() {
    // a chain of n binary operators builds a tree n + 1 deep
    let n = MAX_DEPTH - 1;
    let sql = format!("select {}s1 from root.sg", "s1 + ".repeat(n));
    let Statement::Query(q) = parse(&sql).expect("longest chain") else {
        panic!("query")
    };
    let text = q.select[0].expr.to_string();
    assert_eq!(text.matches(" + ").count(), n);
    let where_or = format!(
        "select s1 from root.sg where {}time = 0",
        "time = 1 or ".repeat(200)
    );
    assert!(parse(&where_or).is_ok());
    // an unbounded chain is refused instead of building a tree too deep to walk
    for sep in [" + ", " * ", " and ", " or ", " > "] {
        let sql = format!(
            "select {}s1 from root.sg",
            format!("s1{sep}").repeat(50_000)
        );
        assert!(is_parse_error(&parse(&sql)), "{sep}");
    }
    let sql = format!(
        "select s1 from root.sg where s1{}",
        " is null".repeat(50_000)
    );
    assert!(is_parse_error(&parse(&sql)));
    let sql = format!(
        "insert into root.sg.d(time, s) values(now(){}, 1)",
        " + 1d".repeat(50_000)
    );
    assert!(is_parse_error(&parse(&sql)));
}

#[test]
fn large_inputs_parse_in_linear_time() {
    let n = 100_000;
    let items: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
    let sql = format!("select {} from root.sg.d1", items.join(", "));
    let t = std::time::Instant::now();
    let Statement::Query(q) = parse(&sql).expect("wide select") else {
        panic!("query")
    };
    assert_eq!(q.select.len(), n);
    let values: Vec<String> = (0..n).map(|i| format!("({i}, {i}.5, 'v{i}')")).collect();
    let sql = format!(
        "insert into root.sg.d1(time, a, b) values {}",
        values.join(", ")
    );
    let Statement::Insert(ins) = parse(&sql).expect("many rows") else {
        panic!("insert")
    };
    assert_eq!(ins.rows.len(), n);
    let list: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let sql = format!("select s1 from root.sg where s1 in ({})", list.join(","));
    assert!(parse(&sql).is_ok());
    // generous bound: debug build on a shared machine; quadratic behaviour would take minutes
    assert!(t.elapsed().as_secs() < 20, "took {:?}", t.elapsed());
}

const FRAGMENTS: &[&str] = &[
    "select",
    "from",
    "where",
    "root",
    ".",
    "sg",
    "d1",
    "s1",
    "*",
    "**",
    "(",
    ")",
    ",",
    "time",
    "=",
    ">",
    "<=",
    "!=",
    "and",
    "or",
    "not",
    "in",
    "like",
    "between",
    "is",
    "null",
    "group",
    "by",
    "level",
    "[",
    "]",
    "1",
    "2.5",
    "-",
    "+",
    "1d",
    "2017-11-01T00:00:00",
    "now()",
    "'a'",
    "`q`",
    "limit",
    "offset",
    "fill",
    "previous",
    "align",
    "device",
    "insert",
    "into",
    "values",
    "create",
    "timeseries",
    "with",
    "datatype",
    "INT32",
    "encoding",
    "show",
    "count",
    "delete",
    "last",
    "order",
    "desc",
    ";",
    "as",
    "e5",
    "1e",
    "\"s\"",
    "having",
    "slimit",
    "tags",
    "!",
    "&&",
    "||",
    "%",
    "/",
    "ALIGNED",
    "schema",
    "template",
    "set",
    "to",
    "database",
];

fn fragment_soup() -> impl Strategy<Value = String> {
    prop::collection::vec((0..FRAGMENTS.len(), prop::bool::ANY), 0..40).prop_map(|v| {
        let mut s = String::new();
        for (i, space) in v {
            s.push_str(FRAGMENTS[i]);
            if space {
                s.push(' ');
            }
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,200}") {
        let _ = parse(&s);
        let _ = parse_expression(&s);
    }

    #[test]
    fn sql_like_text_never_panics(s in "[a-zA-Z0-9_ .,()*'\"`+\\-/%=<>!&|;:\\[\\]#@${}中]{0,120}") {
        let _ = parse(&s);
    }

    #[test]
    fn fragment_soup_never_panics(s in fragment_soup()) {
        if let Ok(Statement::Query(q)) = parse(&s) {
            for c in &q.select {
                let _ = c.expr.to_string();
            }
        }
    }
}

// ---------------------------------------------------------------- round trip

fn path_leaf() -> impl Strategy<Value = Expression> {
    prop_oneof![
        Just(vec!["s1"]),
        Just(vec!["d1", "s2"]),
        Just(vec!["*"]),
        Just(vec!["s*"]),
        Just(vec!["`a.b`"]),
        Just(vec!["温度"]),
        Just(vec!["root", "sg", "d1", "s1"]),
    ]
    .prop_map(|nodes| {
        let full = nodes[0] == "root";
        Expression::Path(PathRef {
            nodes: nodes.into_iter().map(String::from).collect(),
            full,
        })
    })
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        (-1000i64..1000).prop_map(Literal::Integer),
        prop_oneof![
            Just("1.5"),
            Just("-0.25"),
            Just("2e3"),
            Just(".5"),
            Just("3.")
        ]
        .prop_map(|t| Literal::Float(t.parse().unwrap_or(0.0), t.to_string())),
        "[a-z' %_]{0,6}".prop_map(Literal::String),
        any::<bool>().prop_map(Literal::Boolean),
        Just(Literal::Null),
        Just(Literal::NaN),
        Just(Literal::Now),
        Just(Literal::DateTime("2017-11-01T00:08:00.000".into())),
    ]
}

fn expression() -> impl Strategy<Value = Expression> {
    let leaf = prop_oneof![
        path_leaf(),
        literal().prop_map(Expression::Constant),
        Just(Expression::Time),
    ];
    leaf.prop_recursive(5, 48, 3, |inner| {
        let binop = prop_oneof![
            Just(BinaryOp::Add),
            Just(BinaryOp::Sub),
            Just(BinaryOp::Mul),
            Just(BinaryOp::Div),
            Just(BinaryOp::Mod),
            Just(BinaryOp::Eq),
            Just(BinaryOp::NotEq),
            Just(BinaryOp::Lt),
            Just(BinaryOp::LtEq),
            Just(BinaryOp::Gt),
            Just(BinaryOp::GtEq),
            Just(BinaryOp::And),
            Just(BinaryOp::Or),
        ];
        let unop = prop_oneof![Just(UnaryOp::Neg), Just(UnaryOp::Pos), Just(UnaryOp::Not)];
        prop_oneof![
            (binop, inner.clone(), inner.clone()).prop_map(|(op, l, r)| Expression::Binary {
                op,
                left: Box::new(l),
                right: Box::new(r)
            }),
            (unop, inner.clone()).prop_map(|(op, e)| Expression::Unary {
                op,
                expr: Box::new(e)
            }),
            (
                prop_oneof![Just("sin"), Just("COUNT"), Just("top_k")],
                path_leaf(),
                prop::collection::vec(inner.clone(), 0..2),
                prop::collection::vec(("[a-z]{1,4}", "[a-z0-9]{0,4}"), 0..2),
            )
                .prop_map(|(name, first, rest, attributes)| {
                    let mut args = vec![first];
                    // `'k' = 'v'`-shaped arguments are attributes by definition; keep them out
                    args.extend(rest.into_iter().filter(|a| {
                        !matches!(a, Expression::Binary { op: BinaryOp::Eq, left, .. }
                            if matches!(**left, Expression::Constant(_)))
                    }));
                    Expression::Function {
                        name: name.to_string(),
                        args,
                        attributes,
                    }
                }),
            (
                inner.clone(),
                prop::collection::vec(literal(), 1..4),
                any::<bool>()
            )
                .prop_map(|(e, list, negated)| Expression::In {
                    expr: Box::new(e),
                    list,
                    negated
                }),
            (inner.clone(), "[a-z%_]{0,5}", any::<bool>(), any::<bool>()).prop_map(
                |(e, pattern, like, negated)| if like {
                    Expression::Like {
                        expr: Box::new(e),
                        pattern,
                        negated,
                    }
                } else {
                    Expression::Regexp {
                        expr: Box::new(e),
                        pattern,
                        negated,
                    }
                }
            ),
            (inner.clone(), any::<bool>()).prop_map(|(e, negated)| Expression::IsNull {
                expr: Box::new(e),
                negated
            }),
            (inner.clone(), inner.clone(), inner.clone(), any::<bool>()).prop_map(
                |(e, l, h, negated)| Expression::Between {
                    expr: Box::new(e),
                    low: Box::new(l),
                    high: Box::new(h),
                    negated
                }
            ),
            (
                inner,
                prop_oneof![
                    Just(model::TSDataType::Int32),
                    Just(model::TSDataType::Text)
                ]
            )
                .prop_map(|(e, ty)| Expression::Cast {
                    expr: Box::new(e),
                    ty
                }),
        ]
    })
}

fn sql_literal(l: &Literal) -> String {
    match l {
        Literal::String(s) => format!("'{}'", s.replace('\'', "''")),
        Literal::Now => "NOW()".into(),
        other => sql::literal_text(other),
    }
}

/// Renders an expression as fully parenthesised SQL text (a second, independent printer).
fn sql_text(e: &Expression) -> String {
    match e {
        Expression::Time => "timestamp".into(),
        Expression::Path(p) => p.nodes.join("."),
        Expression::Constant(l) => sql_literal(l),
        Expression::Unary { op, expr } => {
            let sym = match op {
                UnaryOp::Neg => "-",
                UnaryOp::Pos => "+",
                UnaryOp::Not => "NOT ",
            };
            format!("{sym}({})", sql_text(expr))
        }
        Expression::Binary { op, left, right } => {
            let sym = match op {
                BinaryOp::And => "AND",
                BinaryOp::Or => "||",
                BinaryOp::Eq => "==",
                BinaryOp::NotEq => "<>",
                other => other.symbol(),
            };
            format!("({}) {sym} ({})", sql_text(left), sql_text(right))
        }
        Expression::Function {
            name,
            args,
            attributes,
        } => {
            let mut parts: Vec<String> = args.iter().map(sql_text).collect();
            parts.extend(attributes.iter().map(|(k, v)| format!("'{k}'=\"{v}\"")));
            format!("{name}({})", parts.join(", "))
        }
        Expression::In {
            expr,
            list,
            negated,
        } => {
            let items: Vec<String> = list.iter().map(sql_literal).collect();
            let not = if *negated { " NOT" } else { "" };
            format!("({}){not} IN ({})", sql_text(expr), items.join(", "))
        }
        Expression::Like {
            expr,
            pattern,
            negated,
        } => format!(
            "({}){} LIKE '{pattern}'",
            sql_text(expr),
            if *negated { " NOT" } else { "" }
        ),
        Expression::Regexp {
            expr,
            pattern,
            negated,
        } => format!(
            "({}){} REGEXP \"{pattern}\"",
            sql_text(expr),
            if *negated { " !" } else { "" }
        ),
        Expression::IsNull { expr, negated } => format!(
            "({}) IS {}NULL",
            sql_text(expr),
            if *negated { "NOT " } else { "" }
        ),
        Expression::Between {
            expr,
            low,
            high,
            negated,
        } => format!(
            "({}){} BETWEEN ({}) AND ({})",
            sql_text(expr),
            if *negated { " NOT" } else { "" },
            sql_text(low),
            sql_text(high)
        ),
        Expression::Cast { expr, ty } => format!("cast({} as {ty})", sql_text(expr)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn expressions_round_trip(e in expression()) {
        let text = sql_text(&e);
        let parsed = parse_expression(&text);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&e), "text: {} → {:?}", text, parsed);
        // and inside a full statement, where the header Display must be stable
        let sql = format!("select {text} from root.sg");
        let st = parse(&sql);
        if e.has_full_path() {
            // a full path in the select list is refused as IoTDB 2.0 does (701; 1.0: 507)
            let code = st.as_ref().err().map(|e| e.status_code().code());
            prop_assert_eq!(code, Some(701), "{}: {:?}", sql, st);
        } else {
            prop_assert!(st.is_ok(), "{}: {:?}", sql, st);
        }
        prop_assert!(!e.to_string().is_empty());
    }
}

#[test]
fn path_limits_are_enforced_at_parse_time() {
    let deep: String = (0..10_000).map(|i| format!(".n{i}")).collect();
    for sql in [
        format!("insert into root{deep}(time, s1) values(1, 1)"),
        format!("select s1 from root{deep}"),
        format!("select root{deep}.s1 from root.sg"),
        format!("select a{deep} from root.sg"),
        format!("create timeseries root{deep}.s1 with datatype=INT32"),
    ] {
        let err = parse(&sql).unwrap_err();
        assert_eq!(
            err.status_code(),
            model::TSStatusCode::IllegalPath,
            "{sql:.60}"
        );
        assert!(err.to_string().contains("levels"), "{err}");
    }
    let huge = "x".repeat(model::path::MAX_NODE_NAME_BYTES + 1);
    for sql in [
        format!("insert into root.sg.d(time, {huge}) values(1, 1)"),
        format!("insert into root.sg.{huge}(time, s1) values(1, 1)"),
        format!("create aligned timeseries root.sg.d({huge} INT32)"),
    ] {
        let err = parse(&sql).unwrap_err();
        assert_eq!(err.status_code(), model::TSStatusCode::IllegalPath);
        assert!(err.to_string().len() < 600, "{:.200}", err.to_string());
    }
}
