// Our own checks with the official Go client (github.com/apache/iotdb-client-go v1.3.7)
// against a running iotdb-rs: the aggregation RPC (executeAggregationQueryV2) and the
// 1.3 data types DATE, TIMESTAMP, BLOB and STRING through records, tablets and SQL.
// scripts/test-go-client runs it with IOTDB_RS_ADDR=host:port.
package go_client

import (
	"os"
	"testing"
	"time"

	"github.com/apache/iotdb-client-go/client"
	"github.com/apache/iotdb-client-go/common"
)

func open(t *testing.T) client.Session {
	t.Helper()
	addr := os.Getenv("IOTDB_RS_ADDR")
	if addr == "" {
		t.Fatal("IOTDB_RS_ADDR (host:port of a running iotdb-rs) is not set")
	}
	s, err := client.NewClusterSession(&client.ClusterConfig{
		NodeUrls: []string{addr}, UserName: "root", Password: "root",
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(false, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func exec(t *testing.T, s client.Session, sql string) {
	t.Helper()
	must(t, s.ExecuteNonQueryStatement(sql))
}

func TestAggregationQuery(t *testing.T) {
	s := open(t)
	exec(t, s, "create database root.goagg")
	defer s.DeleteStorageGroup("root.goagg")
	exec(t, s, "create timeseries root.goagg.d.s1 with datatype=INT64")
	exec(t, s, "create timeseries root.goagg.d.s2 with datatype=DOUBLE")
	exec(t, s, "insert into root.goagg.d(time, s1, s2) values (1, 10, 1.5), (2, 20, 2.5), (5, 50, 5.5)")

	paths := []string{"root.goagg.d.s1", "root.goagg.d.s2", "root.goagg.d.s1"}
	aggs := []common.TAggregationType{common.TAggregationType_COUNT, common.TAggregationType_SUM, common.TAggregationType_MAX_VALUE}
	ds, err := s.ExecuteAggregationQuery(paths, aggs, nil, nil, nil, nil)
	must(t, err)
	names := ds.GetColumnNames()
	want := []string{"COUNT(root.goagg.d.s1)", "SUM(root.goagg.d.s2)", "MAX_VALUE(root.goagg.d.s1)"}
	if len(names) != len(want) {
		t.Fatalf("columns %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("columns %v, want %v", names, want)
		}
	}
	ok, err := ds.Next()
	must(t, err)
	if !ok {
		t.Fatal("no row")
	}
	count, err := ds.GetLong("COUNT(root.goagg.d.s1)")
	must(t, err)
	sum, err := ds.GetDouble("SUM(root.goagg.d.s2)")
	must(t, err)
	max, err := ds.GetLong("MAX_VALUE(root.goagg.d.s1)")
	must(t, err)
	if count != 3 || sum != 9.5 || max != 50 {
		t.Fatalf("count %d sum %v max %d, want 3 9.5 50", count, sum, max)
	}
	ds.Close()

	// [startTime, endTime) in windows of interval ms: [0, 3) and [3, 6).
	start, end, interval := int64(0), int64(6), int64(3)
	ds, err = s.ExecuteAggregationQuery(paths[:1], aggs[:1], &start, &end, &interval, nil)
	must(t, err)
	var got []int64
	for {
		ok, err := ds.Next()
		must(t, err)
		if !ok {
			break
		}
		c, err := ds.GetLongByIndex(2)
		must(t, err)
		got = append(got, c)
	}
	ds.Close()
	if len(got) != 2 || got[0] != 2 || got[1] != 1 {
		t.Fatalf("windowed counts %v, want [2 1]", got)
	}

	// A numeric aggregation of a TEXT series is an error, not a result.
	exec(t, s, "insert into root.goagg.d(time, t) values (1, 'x')")
	if _, err := s.ExecuteAggregationQuery([]string{"root.goagg.d.t"}, []common.TAggregationType{common.TAggregationType_SUM}, nil, nil, nil, nil); err == nil {
		t.Fatal("sum of TEXT answered")
	}
}

func TestNewDataTypes(t *testing.T) {
	s := open(t)
	exec(t, s, "create database root.gotypes")
	defer s.DeleteStorageGroup("root.gotypes")
	date := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	// Records auto-create the series with the declared types.
	must(t, s.InsertRecord("root.gotypes.r", []string{"d", "ts", "b", "s"},
		[]client.TSDataType{client.DATE, client.TIMESTAMP, client.BLOB, client.STRING},
		[]interface{}{date, int64(1711929600000), []byte{0x0a, 0x1b}, "str"}, 7))
	ds, err := s.ExecuteQueryStatement("show timeseries root.gotypes.r.*", nil)
	must(t, err)
	types := map[string]string{}
	for {
		ok, err := ds.Next()
		must(t, err)
		if !ok {
			break
		}
		name, err := ds.GetStringByIndex(1)
		must(t, err)
		dt, err := ds.GetString("DataType")
		must(t, err)
		types[name] = dt
	}
	ds.Close()
	for m, want := range map[string]string{"d": "DATE", "ts": "TIMESTAMP", "b": "BLOB", "s": "STRING"} {
		if types["root.gotypes.r."+m] != want {
			t.Fatalf("SHOW TIMESERIES types %v: %s should be %s", types, m, want)
		}
	}

	ds, err = s.ExecuteQueryStatement("select d, ts, b, s from root.gotypes.r", nil)
	must(t, err)
	ok, err := ds.Next()
	must(t, err)
	if !ok {
		t.Fatal("no row")
	}
	colTypes := ds.GetColumnTypes() // with the time column first
	wantTypes := []string{"INT64", "DATE", "TIMESTAMP", "BLOB", "STRING"}
	if len(colTypes) != len(wantTypes) {
		t.Fatalf("column types %v, want %v", colTypes, wantTypes)
	}
	for i, w := range wantTypes {
		if colTypes[i] != w {
			t.Fatalf("column types %v, want %v", colTypes, wantTypes)
		}
	}
	d, err := ds.GetString("root.gotypes.r.d")
	must(t, err)
	if d != "2024-04-01" {
		t.Fatalf("DATE renders %q", d)
	}
	gotDate, err := ds.GetDate("root.gotypes.r.d")
	must(t, err)
	if !gotDate.Equal(date) {
		t.Fatalf("DATE %v, want %v", gotDate, date)
	}
	blob, err := ds.GetBlob("root.gotypes.r.b")
	must(t, err)
	if v := blob.GetValues(); len(v) != 2 || v[0] != 0x0a || v[1] != 0x1b {
		t.Fatalf("BLOB %v", v)
	}
	str, err := ds.GetString("root.gotypes.r.s")
	must(t, err)
	if str != "str" {
		t.Fatalf("STRING %q", str)
	}
	ts, err := ds.GetTimestamp("root.gotypes.r.ts")
	must(t, err)
	if ts.UnixMilli() != 1711929600000 {
		t.Fatalf("TIMESTAMP %v", ts)
	}
	ds.Close()

	// SQL literals: a DATE as 'yyyy-MM-dd', a BLOB as X'..'.
	exec(t, s, "insert into root.gotypes.r(time, d, b) values (8, '2024-12-31', X'ff00')")
	ds, err = s.ExecuteQueryStatement("select d, b from root.gotypes.r where time = 8", nil)
	must(t, err)
	ok, err = ds.Next()
	must(t, err)
	if !ok {
		t.Fatal("no row at time 8")
	}
	d, err = ds.GetString("root.gotypes.r.d")
	must(t, err)
	blob, err = ds.GetBlob("root.gotypes.r.b")
	must(t, err)
	if v := blob.GetValues(); d != "2024-12-31" || len(v) != 2 || v[0] != 0xff || v[1] != 0 {
		t.Fatalf("SQL literals read back as %q %v", d, v)
	}
	ds.Close()
}
