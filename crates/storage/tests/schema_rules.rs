//! Schema rules: databases, series order, aliases, alignment, templates, inference.

mod common;
use common::*;
use model::{
    Column, ColumnData, CompressionType, Error, InsertTablet, MeasurementSchema, TSDataType,
    TSEncoding, TemplateDef, TemplateMeasurement, Value,
};
use storage::{AlterOp, Engine, NodeKind, TimeRange, TimeseriesSpec, WalMode};

fn spec(path: &str, t: TSDataType) -> TimeseriesSpec {
    TimeseriesSpec::new(p(path), t)
}

fn tm(path: &str, t: TSDataType) -> TemplateMeasurement {
    TemplateMeasurement {
        path: path.into(),
        aligned: false,
        schema: MeasurementSchema {
            name: path.rsplit('.').next().unwrap().into(),
            data_type: t,
            encoding: t.default_encoding(),
            compressor: CompressionType::Snappy,
        },
    }
}

#[test]
fn database_rules_and_order() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    e.create_database(&p("root.cursor")).unwrap();
    e.create_database(&p("root.cursor_s1")).unwrap();
    let dbs: Vec<String> = e
        .databases(&pat("root.**"))
        .iter()
        .map(|d| d.path.to_string())
        .collect();
    assert_eq!(dbs, ["root.cursor_s1", "root.cursor"]);
    assert_eq!(e.databases(&pat("root.**"))[0].ttl_ms, None);
    assert_eq!(
        e.databases(&pat("root.**"))[0].time_partition_interval_ms,
        604800000
    );

    let err = e.create_database(&p("root.cursor")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "root.cursor has already been created as database"
    );
    assert_eq!(err.status_code().code(), 501);
    let err = e.create_database(&p("root.cursor.a")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "root.cursor has already been created as database"
    );
    e.create_database(&p("root.x.y")).unwrap();
    let err = e.create_database(&p("root.x")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "some children of root.x have already been created as database"
    );
    assert!(matches!(
        e.create_database(&p("root")),
        Err(Error::IllegalPath(..))
    ));

    e.set_ttl(&pat("root.cursor"), Some(3_600_000)).unwrap();
    assert_eq!(e.databases(&pat("root.cursor"))[0].ttl_ms, Some(3_600_000));
    e.set_ttl(&pat("root.cursor"), None).unwrap();
    assert_eq!(e.databases(&pat("root.cursor"))[0].ttl_ms, None);

    let err = e.delete_databases(&[pat("root.nothing")]).unwrap_err();
    assert_eq!(err.to_string(), "Path [root.nothing] does not exist");
    assert_eq!(err.status_code().code(), 508);
    e.delete_databases(&[pat("root.**")]).unwrap();
    assert!(e.databases(&pat("root.**")).is_empty());
}

#[test]
fn series_expand_in_java_hashmap_order_with_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    e.create_database(&p("root.sg")).unwrap();
    for s in ["s1", "s2", "s3"] {
        e.create_timeseries(spec(&format!("root.sg.d.{s}"), TSDataType::Int64))
            .unwrap();
    }
    assert_eq!(
        names(&e.series(&pat("root.sg.d.*"))),
        ["root.sg.d.s3", "root.sg.d.s1", "root.sg.d.s2"]
    );
    assert_eq!(names(&e.series(&pat("root.**"))).len(), 3);
    assert!(e.series(&pat("root.nothing.**")).is_empty());

    let mut s = spec("root.sg.d2.temperature", TSDataType::Float);
    s.alias = Some("temp".into());
    s.tags = vec![("tag1".into(), "v1".into()), ("tag2".into(), "v2".into())];
    s.attributes = vec![("attr1".into(), "v1".into()), ("attr2".into(), "v2".into())];
    e.create_timeseries(s).unwrap();
    let info = e.series_info(&p("root.sg.d2.temp")).unwrap();
    assert_eq!(info.path.to_string(), "root.sg.d2.temperature");
    assert_eq!(info.alias.as_deref(), Some("temp"));
    assert_eq!(info.database.to_string(), "root.sg");
    assert_eq!(info.schema.encoding, TSEncoding::Gorilla);
    assert_eq!(
        info.attributes[0].0, "attr2",
        "attributes in Java HashMap order"
    );
    assert_eq!(
        names(&e.series(&pat("root.sg.d2.temp"))),
        ["root.sg.d2.temperature"]
    );

    let mut dup = spec("root.sg.d2.other", TSDataType::Float);
    dup.alias = Some("temp".into());
    assert!(matches!(
        e.create_timeseries(dup),
        Err(Error::AliasAlreadyExist(..))
    ));
    let err = e
        .create_timeseries(spec("root.sg.d.s1", TSDataType::Int64))
        .unwrap_err();
    assert_eq!(err.to_string(), "Path [root.sg.d.s1] already exist");
    assert_eq!(err.status_code().code(), 503);
    assert!(matches!(
        e.create_timeseries(spec("root.sg.d.s1.x", TSDataType::Int64)),
        Err(Error::PathAlreadyExist(_))
    ));
    let mut bad = spec("root.sg.d.b", TSDataType::Boolean);
    bad.encoding = TSEncoding::Ts2Diff;
    let err = e.create_timeseries(bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "encoding TS_2DIFF does not support BOOLEAN"
    );

    // devices and child paths
    let devs: Vec<String> = e
        .devices(&pat("root.**"))
        .iter()
        .map(|d| d.path.to_string())
        .collect();
    assert_eq!(devs.len(), 2);
    let kids = e.child_paths(&pat("root"));
    assert_eq!(kids, vec![(p("root.sg"), NodeKind::Database)]);
    let kids = e.child_paths(&pat("root.sg"));
    assert_eq!(
        kids,
        vec![
            (p("root.sg.d"), NodeKind::Device),
            (p("root.sg.d2"), NodeKind::Device)
        ]
    );
    let kids = e.child_paths(&pat("root.sg.d"));
    assert_eq!(kids.len(), 3);
    assert!(kids.iter().all(|(_, k)| *k == NodeKind::Timeseries));
    assert_eq!(e.nodes_at_level(&pat("root.**"), 2).len(), 2);
    assert_eq!(e.nodes_at_level(&pat("root.sg"), 2).len(), 2);
    assert_eq!(
        e.nodes_at_level(&pat("root.**.temperature"), 2),
        vec![p("root.sg.d2")]
    );
    assert_eq!(
        e.nodes_at_level(&pat("root.sg.d.s1"), 1),
        vec![p("root.sg")]
    );

    // delete with pattern; nothing matched is an error
    e.delete_timeseries(&[pat("root.sg.d.*")]).unwrap();
    assert_eq!(
        names(&e.series(&pat("root.**"))),
        ["root.sg.d2.temperature"]
    );
    assert!(matches!(
        e.delete_timeseries(&[pat("root.sg.d.*")]),
        Err(Error::PathNotExist(_))
    ));
}

#[test]
fn alter_tags_attributes_alias() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let mut s = spec("root.sg.d.s1", TSDataType::Int32);
    s.tags = vec![("a".into(), "1".into())];
    s.attributes = vec![("b".into(), "2".into())];
    e.create_timeseries(s).unwrap();
    let path = p("root.sg.d.s1");
    e.alter_timeseries(&path, AlterOp::AddTags(vec![("c".into(), "3".into())]))
        .unwrap();
    assert!(matches!(
        e.alter_timeseries(&path, AlterOp::AddTags(vec![("c".into(), "9".into())])),
        Err(Error::Metadata(_))
    ));
    e.alter_timeseries(&path, AlterOp::Set(vec![("b".into(), "22".into())]))
        .unwrap();
    e.alter_timeseries(
        &path,
        AlterOp::Rename {
            from: "a".into(),
            to: "aa".into(),
        },
    )
    .unwrap();
    e.alter_timeseries(&path, AlterOp::Drop(vec!["c".into()]))
        .unwrap();
    e.alter_timeseries(
        &path,
        AlterOp::Upsert {
            alias: Some("speed".into()),
            tags: vec![("t".into(), "x".into())],
            attributes: vec![],
        },
    )
    .unwrap();
    let info = e.series_info(&p("root.sg.d.speed")).unwrap();
    let mut tags = info.tags.clone();
    tags.sort();
    assert_eq!(
        tags,
        vec![("aa".into(), "1".into()), ("t".into(), "x".into())]
    );
    assert_eq!(info.attributes, vec![("b".into(), "22".into())]);
    assert!(matches!(
        e.alter_timeseries(&path, AlterOp::Set(vec![("zz".into(), "1".into())])),
        Err(Error::Metadata(_))
    ));
    assert!(matches!(
        e.alter_timeseries(&p("root.sg.d.nope"), AlterOp::Drop(vec![])),
        Err(Error::PathNotExist(_))
    ));
    // survives restart
    drop(e);
    let e = open(dir.path());
    let info = e.series_info(&p("root.sg.d.speed")).unwrap();
    assert_eq!(info.attributes, vec![("b".into(), "22".into())]);
}

#[test]
fn aligned_rules() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    e.create_aligned_timeseries(
        &p("root.sg.ad"),
        vec![
            spec("root.sg.ad.s1", TSDataType::Int32),
            spec("root.sg.ad.s2", TSDataType::Double),
        ],
    )
    .unwrap();
    assert!(e.devices(&pat("root.sg.ad"))[0].aligned);
    assert!(matches!(
        e.create_timeseries(spec("root.sg.ad.s3", TSDataType::Int32)),
        Err(Error::AlignedTimeseries(_))
    ));
    e.create_aligned_timeseries(
        &p("root.sg.ad"),
        vec![spec("root.sg.ad.s3", TSDataType::Int32)],
    )
    .unwrap();
    // a non-aligned tablet into an aligned device is written aligned (IoTDB 2.0)
    let t = doubles("root.sg.ad", &["s2"], vec![1], vec![vec![1.0]]);
    e.insert_tablet(&t).unwrap();
    let mut t = doubles("root.sg.ad", &["s2"], vec![2], vec![vec![2.0]]);
    t.aligned = true;
    e.insert_tablet(&t).unwrap();
    assert_eq!(
        e.read_series(&p("root.sg.ad.s2"), TimeRange::ALL)
            .unwrap()
            .times,
        vec![1, 2]
    );
    // aligned insert into a new device creates an aligned device
    let mut t2 = doubles("root.sg.ad2", &["x"], vec![1], vec![vec![1.0]]);
    t2.aligned = true;
    e.insert_tablet(&t2).unwrap();
    assert!(e.series_info(&p("root.sg.ad2.x")).unwrap().aligned);
    // a non-aligned row into an aligned device is written; a new measurement it brings is
    // not created the other way (609 for it alone, as IoTDB 2.0 answers)
    let err = e
        .insert_rows(&rows(vec![str_row(
            "root.sg.ad2",
            2,
            &["x", "y"],
            &["1.0", "2.0"],
        )]))
        .unwrap_err();
    assert!(err.to_string().contains("is aligned"), "{err}");
    assert!(e.series_info(&p("root.sg.ad2.y")).is_none());
    assert_eq!(
        e.read_series(&p("root.sg.ad2.x"), TimeRange::ALL)
            .unwrap()
            .times,
        vec![1, 2]
    );
}

#[test]
fn auto_create_infers_iotdb_1_0_types() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    e.insert_rows(&rows(vec![str_row(
        "root.auto.dev.sub",
        1,
        &["b", "i", "l", "f", "n", "t", "z"],
        &["TRUE", "15", "16777217", "15.0", "NaN", "hello", "null"],
    )]))
    .unwrap();
    let ty = |m: &str| {
        e.series_info(&p(&format!("root.auto.dev.sub.{m}")))
            .map(|s| s.schema.data_type)
    };
    assert_eq!(ty("b"), Some(TSDataType::Boolean));
    assert_eq!(ty("i"), Some(TSDataType::Float));
    assert_eq!(ty("l"), Some(TSDataType::Double));
    assert_eq!(ty("f"), Some(TSDataType::Float));
    assert_eq!(ty("n"), Some(TSDataType::Double));
    assert_eq!(ty("t"), Some(TSDataType::Text));
    assert_eq!(ty("z"), None, "null creates nothing");
    let info = e.series_info(&p("root.auto.dev.sub.i")).unwrap();
    assert_eq!(info.database.to_string(), "root.auto");
    assert_eq!(info.schema.encoding, TSEncoding::Gorilla);
    assert_eq!(info.schema.compressor, CompressionType::Snappy);
    let d = e
        .read_series(&p("root.auto.dev.sub.t"), TimeRange::ALL)
        .unwrap();
    assert_eq!(d.values, ColumnData::Binary(vec![b"hello".to_vec()]));
    // typed rows create the value's type
    e.insert_rows(&rows(vec![typed_row(
        "root.auto.d2",
        5,
        &["x", "y"],
        vec![Some(Value::Int64(3)), None],
    )]))
    .unwrap();
    assert_eq!(
        e.series_info(&p("root.auto.d2.x"))
            .unwrap()
            .schema
            .data_type,
        TSDataType::Int64
    );
    assert!(e.series_info(&p("root.auto.d2.y")).is_none());
    // zero measurements is a no-op
    e.insert_rows(&rows(vec![str_row("root.auto.d3", 1, &[], &[])]))
        .unwrap();
    assert!(e.series(&pat("root.auto.d3.**")).is_empty());
}

#[test]
fn auto_create_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path(), WalMode::Sync);
    c.auto_create_schema = false;
    let e = Engine::open(c).unwrap();
    let err = e
        .insert_tablet(&doubles("root.sg.d", &["s"], vec![1], vec![vec![1.0]]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Database is not set for current seriesPath: [root.sg.d.s]"
    );
    assert_eq!(err.status_code().code(), 500);
    assert!(matches!(
        e.create_timeseries(spec("root.sg.d.s", TSDataType::Double)),
        Err(Error::DatabaseNotSet(_))
    ));
    e.create_database(&p("root.sg")).unwrap();
    e.create_timeseries(spec("root.sg.d.s", TSDataType::Double))
        .unwrap();
    let err = e
        .insert_tablet(&doubles(
            "root.sg.d",
            &["s", "missing"],
            vec![1],
            vec![vec![1.0], vec![2.0]],
        ))
        .unwrap_err();
    assert!(matches!(err, Error::PathNotExist(_)), "{err}");
    assert_eq!(
        e.read_series(&p("root.sg.d.s"), TimeRange::ALL)
            .unwrap()
            .times,
        vec![1]
    );
}

#[test]
fn type_mismatch_fails_only_that_measurement() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    e.create_timeseries(spec("root.sg.d.s1", TSDataType::Int64))
        .unwrap();
    let err = e
        .insert_tablet(&doubles(
            "root.sg.d",
            &["s1", "s2"],
            vec![1, 2],
            vec![vec![1.0, 2.0], vec![3.0, 4.0]],
        ))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Fail to insert measurements [s1] caused by [data type of root.sg.d.s1 is not consistent, \
         registered type INT64, inserting type DOUBLE, timestamp 1, value 1.0]"
    );
    assert_eq!(err.status_code().code(), 507);
    assert_eq!(
        e.read_series(&p("root.sg.d.s2"), TimeRange::ALL)
            .unwrap()
            .times,
        vec![1, 2]
    );
    assert!(e
        .read_series(&p("root.sg.d.s1"), TimeRange::ALL)
        .unwrap()
        .times
        .is_empty());

    // widening is accepted: INT32 column into INT64 series
    let t = InsertTablet {
        device: p("root.sg.d"),
        measurements: vec!["s1".into()],
        types: vec![TSDataType::Int32],
        times: vec![5],
        columns: vec![Column::new(ColumnData::Int32(vec![7]))],
        aligned: false,
    };
    e.insert_tablet(&t).unwrap();
    assert_eq!(
        e.last_point(&p("root.sg.d.s1")).unwrap(),
        Some((5, Value::Int64(7)))
    );

    // rows: string that does not parse fails alone; several failing rows → Multiple
    let err = e
        .insert_rows(&rows(vec![str_row(
            "root.sg.d",
            10,
            &["s1", "s2"],
            &["abc", "5.5"],
        )]))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Fail to insert measurements [s1]"),
        "{err}"
    );
    assert_eq!(
        e.last_point(&p("root.sg.d.s2")).unwrap(),
        Some((10, Value::Double(5.5)))
    );
    let err = e
        .insert_rows(&rows(vec![
            typed_row("root.sg.d", 11, &["s1"], vec![Some(Value::Double(1.5))]),
            typed_row("root.sg.d", 12, &["s1"], vec![Some(Value::Int64(12))]),
            typed_row(
                "root.sg.d",
                13,
                &["s1"],
                vec![Some(Value::Text(b"x".to_vec()))],
            ),
        ]))
        .unwrap_err();
    match err {
        Error::Multiple(v) => assert_eq!(v.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![0, 2]),
        other => panic!("expected Multiple, got {other}"),
    }
    assert_eq!(
        e.last_point(&p("root.sg.d.s1")).unwrap(),
        Some((12, Value::Int64(12)))
    );
}

#[test]
fn templates_full_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let t = TemplateDef {
        name: "t1".into(),
        aligned: false,
        measurements: vec![
            tm("s1", TSDataType::Int64),
            tm("s2", TSDataType::Int64),
            tm("s3", TSDataType::Int64),
        ],
    };
    e.create_template(t.clone()).unwrap();
    assert!(matches!(
        e.create_template(t),
        Err(Error::DuplicatedTemplate(_))
    ));
    assert_eq!(e.template_names(), ["t1"]);
    e.prune_template("t1", "s1").unwrap();
    assert_eq!(e.template("t1").unwrap().measurements.len(), 2);
    e.append_template("t1", vec![tm("s1", TSDataType::Int64)])
        .unwrap();
    assert!(matches!(
        e.append_template("t1", vec![tm("s1", TSDataType::Int64)]),
        Err(Error::Metadata(_))
    ));

    // set without a database; activation creates it
    e.set_template("t1", &p("root.python.GPS")).unwrap();
    assert!(matches!(
        e.set_template("t1", &p("root.python.GPS.x")),
        Err(Error::Metadata(_))
    ));
    e.activate_template(&p("root.python.GPS")).unwrap();
    assert_eq!(
        e.databases(&pat("root.**"))[0].path.to_string(),
        "root.python"
    );
    assert_eq!(
        e.paths_template_set_on("t1").unwrap(),
        vec![p("root.python.GPS")]
    );
    assert_eq!(
        e.paths_template_using_on("t1").unwrap(),
        vec![p("root.python.GPS")]
    );
    assert_eq!(
        names(&e.series(&pat("root.**"))),
        [
            "root.python.GPS.s3",
            "root.python.GPS.s1",
            "root.python.GPS.s2"
        ]
    );
    let d = e.devices(&pat("root.**"));
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].template.as_deref(), Some("t1"));
    assert_eq!(
        e.series_info(&p("root.python.GPS.s1"))
            .unwrap()
            .template
            .as_deref(),
        Some("t1")
    );
    assert!(matches!(
        e.prune_template("t1", "s1"),
        Err(Error::TemplateIsInUse(_))
    ));

    // data through template series
    e.insert_tablet(&InsertTablet {
        device: p("root.python.GPS"),
        measurements: vec!["s1".into()],
        types: vec![TSDataType::Int64],
        times: vec![1, 2],
        columns: vec![Column::new(ColumnData::Int64(vec![10, 20]))],
        aligned: false,
    })
    .unwrap();
    assert_eq!(
        e.read_series(&p("root.python.GPS.s1"), TimeRange::ALL)
            .unwrap()
            .times,
        vec![1, 2]
    );

    let err = e.unset_template("t1", &p("root.python.GPS")).unwrap_err();
    assert_eq!(err.status_code().code(), 515);
    assert_eq!(e.drop_template("t1").unwrap_err().status_code().code(), 507);
    assert!(matches!(
        e.unset_template("t1", &p("root.python")),
        Err(Error::TemplateNotSet(_))
    ));

    e.deactivate_template(Some("t1"), &[pat("root.python.**")])
        .unwrap();
    assert!(e.series(&pat("root.**")).is_empty());
    assert!(matches!(
        e.deactivate_template(Some("t1"), &[pat("root.python.**")]),
        Err(Error::TemplateNotActivated(_))
    ));
    e.unset_template("t1", &p("root.python.GPS")).unwrap();
    e.drop_template("t1").unwrap();
    assert!(e.template_names().is_empty());
    assert!(matches!(
        e.drop_template("t1"),
        Err(Error::UndefinedTemplate(_))
    ));
}

#[test]
fn template_conflicts_insert_activation_and_nesting() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    e.create_database(&p("root.sg")).unwrap();
    e.create_timeseries(spec("root.sg.d1.s1", TSDataType::Int64))
        .unwrap();
    e.create_template(TemplateDef {
        name: "t".into(),
        aligned: false,
        measurements: vec![tm("s1", TSDataType::Int64)],
    })
    .unwrap();
    let err = e.set_template("t", &p("root.sg")).unwrap_err();
    assert_eq!(err.status_code().code(), 516);

    // insert into a covered device activates the template
    e.create_template(TemplateDef {
        name: "nested".into(),
        aligned: false,
        measurements: vec![
            tm("speed", TSDataType::Double),
            TemplateMeasurement {
                aligned: true,
                ..tm("GPS.x", TSDataType::Float)
            },
            TemplateMeasurement {
                aligned: true,
                ..tm("GPS.y", TSDataType::Float)
            },
        ],
    })
    .unwrap();
    e.set_template("nested", &p("root.sg.cars")).unwrap();
    e.insert_tablet(&doubles(
        "root.sg.cars.c1",
        &["speed"],
        vec![1],
        vec![vec![50.0]],
    ))
    .unwrap();
    assert_eq!(
        e.paths_template_using_on("nested").unwrap(),
        vec![p("root.sg.cars.c1")]
    );
    let series = names(&e.series(&pat("root.sg.cars.**")));
    assert_eq!(series.len(), 3);
    assert!(series.contains(&"root.sg.cars.c1.GPS.x".to_string()));
    let gps = e.series_info(&p("root.sg.cars.c1.GPS.y")).unwrap();
    assert!(gps.aligned);
    assert_eq!(gps.schema.data_type, TSDataType::Float);
    let devs: Vec<String> = e
        .devices(&pat("root.sg.cars.**"))
        .iter()
        .map(|d| d.path.to_string())
        .collect();
    assert_eq!(devs, ["root.sg.cars.c1", "root.sg.cars.c1.GPS"]);
    // aligned write to the nested group
    let mut t = InsertTablet {
        device: p("root.sg.cars.c1.GPS"),
        measurements: vec!["x".into(), "y".into()],
        types: vec![TSDataType::Float; 2],
        times: vec![1],
        columns: vec![
            Column::new(ColumnData::Float(vec![1.5])),
            Column::new(ColumnData::Float(vec![2.5])),
        ],
        aligned: true,
    };
    e.insert_tablet(&t).unwrap();
    t.aligned = false;
    t.times = vec![2];
    e.insert_tablet(&t).unwrap(); // written aligned, as IoTDB 2.0 does
    assert_eq!(
        e.read_series(&p("root.sg.cars.c1.GPS.y"), TimeRange::ALL)
            .unwrap()
            .values,
        ColumnData::Float(vec![2.5, 2.5])
    );
    // a measurement outside the template becomes an ordinary series
    e.insert_tablet(&doubles(
        "root.sg.cars.c1",
        &["extra"],
        vec![1],
        vec![vec![1.0]],
    ))
    .unwrap();
    assert!(e
        .series_info(&p("root.sg.cars.c1.extra"))
        .unwrap()
        .template
        .is_none());
    // creating a series that the template provides is refused
    assert!(e
        .create_timeseries(spec("root.sg.cars.c1.speed", TSDataType::Double))
        .is_err());
    // survives restart (template, set point, activation, data)
    drop(e);
    let e = open(dir.path());
    assert_eq!(names(&e.series(&pat("root.sg.cars.**"))).len(), 4);
    assert_eq!(
        e.read_series(&p("root.sg.cars.c1.speed"), TimeRange::ALL)
            .unwrap()
            .times,
        vec![1]
    );
    e.deactivate_template(None, &[pat("root.sg.cars.*")])
        .unwrap();
    assert!(e
        .read_series(&p("root.sg.cars.c1.speed"), TimeRange::ALL)
        .is_err());
}

#[test]
fn delete_database_keeps_template_set_points() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    e.create_template(TemplateDef {
        name: "t".into(),
        aligned: false,
        measurements: vec![tm("s1", TSDataType::Int32)],
    })
    .unwrap();
    e.set_template("t", &p("root.db.dev")).unwrap();
    e.activate_template(&p("root.db.dev")).unwrap();
    e.delete_databases(&[pat("root.**")]).unwrap();
    assert!(e.series(&pat("root.**")).is_empty());
    assert!(e.paths_template_using_on("t").unwrap().is_empty());
    assert_eq!(
        e.paths_template_set_on("t").unwrap(),
        vec![p("root.db.dev")]
    );
    e.unset_template("t", &p("root.db.dev")).unwrap();
    e.drop_template("t").unwrap();
}
