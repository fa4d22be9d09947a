// The part of the Java Session check that only iotdb-session 1.3.x can run: the DATE, TIMESTAMP,
// BLOB and STRING types through every insert path, executeAggregationQuery (with and without
// time windows) and executeLastDataQueryForOneDevice. SessionCheck calls run() by reflection.

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import org.apache.iotdb.common.rpc.thrift.TAggregationType;
import org.apache.iotdb.session.Session;
import org.apache.tsfile.enums.TSDataType;
import org.apache.tsfile.file.metadata.enums.CompressionType;
import org.apache.tsfile.file.metadata.enums.TSEncoding;
import org.apache.tsfile.utils.Binary;
import org.apache.tsfile.write.record.Tablet;
import org.apache.tsfile.write.schema.MeasurementSchema;

public class NewTypes {
  static Binary bin(String s) {
    return new Binary(s, StandardCharsets.UTF_8);
  }

  public static void run(Session s, String parent) throws Exception {
    String db = parent + "_types";
    String dev = db + ".dev";
    s.createDatabase(db);
    List<TSDataType> types =
        Arrays.asList(TSDataType.DATE, TSDataType.TIMESTAMP, TSDataType.BLOB, TSDataType.STRING);
    List<String> names = Arrays.asList("day", "ts", "raw", "name");
    s.createTimeseries(dev + ".day", TSDataType.DATE, TSEncoding.RLE, CompressionType.LZ4);
    s.createTimeseries(dev + ".ts", TSDataType.TIMESTAMP, TSEncoding.TS_2DIFF,
        CompressionType.LZ4);
    s.createTimeseries(dev + ".raw", TSDataType.BLOB, TSEncoding.PLAIN, CompressionType.LZ4);
    s.createTimeseries(dev + ".name", TSDataType.STRING, TSEncoding.PLAIN, CompressionType.LZ4);
    SessionCheck.check("SHOW TIMESERIES reports the new types",
        Arrays.asList(dev + ".day,DATE", dev + ".name,STRING", dev + ".raw,BLOB",
            dev + ".ts,TIMESTAMP"),
        SessionCheck.typeOf(s, dev + ".*"));

    // Typed record, typed records of one device, string record, tablet with nulls.
    s.insertRecord(dev, 1, names, types, LocalDate.of(2024, 4, 1), 1_711_929_600_000L,
        bin("\u0001\u00ff"), bin("alpha"));
    s.insertRecordsOfOneDevice(dev, Arrays.asList(2L, 3L),
        Arrays.asList(names, Arrays.asList("day", "name")),
        Arrays.asList(types, Arrays.asList(TSDataType.DATE, TSDataType.STRING)),
        Arrays.asList(
            Arrays.<Object>asList(LocalDate.of(2024, 2, 29), 0L, bin(""), bin("beta")),
            Arrays.<Object>asList(LocalDate.of(1999, 12, 31), bin("gamma"))));
    Tablet t = new Tablet(dev, Arrays.asList(new MeasurementSchema("day", TSDataType.DATE),
        new MeasurementSchema("ts", TSDataType.TIMESTAMP), new MeasurementSchema("raw",
            TSDataType.BLOB), new MeasurementSchema("name", TSDataType.STRING)), 10);
    t.initBitMaps();
    for (int r = 0; r < 10; r++) {
      t.addTimestamp(r, 10 + r);
      t.addValue("day", r, LocalDate.of(2024, 1, 1 + r));
      t.addValue("ts", r, 1_000L * r);
      t.addValue("raw", r, bin("b" + r));
      t.addValue("name", r, bin("n" + r));
      t.rowSize++;
    }
    t.bitMaps[0].mark(1);
    t.bitMaps[3].mark(2);
    s.insertTablet(t);
    s.createAlignedTimeseries(db + ".al", Arrays.asList("d", "s"),
        Arrays.asList(TSDataType.DATE, TSDataType.STRING),
        Arrays.asList(TSEncoding.PLAIN, TSEncoding.PLAIN),
        Arrays.asList(CompressionType.LZ4, CompressionType.LZ4), null);
    s.insertAlignedRecord(db + ".al", 5, Arrays.asList("d", "s"),
        Arrays.asList(TSDataType.DATE, TSDataType.STRING),
        Arrays.<Object>asList(LocalDate.of(2000, 1, 1), bin("aligned")));

    SessionCheck.check("new types: values as the 1.3 client renders them",
        Arrays.asList("1,2024-04-01,1711929600000,0x01c3bf,alpha", "2,2024-02-29,0,0x,beta",
            "3,1999-12-31,null,null,gamma", "10,2024-01-01,0,0x6230,n0",
            "11,null,1000,0x6231,n1", "12,2024-01-03,2000,0x6232,null"),
        SessionCheck.query(s, "SELECT day, ts, raw, name FROM " + dev + " WHERE time <= 12"));
    SessionCheck.check("new types: comparisons with literals", Arrays.asList("1,alpha", "2,beta", "12,null"),
        SessionCheck.query(s, "SELECT name FROM " + dev + " WHERE day >= '2024-01-03' AND day"
            + " <= '2024-04-01' AND time < 13"));
    SessionCheck.check("new types: aligned record", Arrays.asList("5,2000-01-01,aligned"),
        SessionCheck.query(s, "SELECT d, s FROM " + db + ".al"));
    SessionCheck.check("new types: SELECT LAST",
        Arrays.asList("19," + dev + ".day,2024-01-10,DATE", "19," + dev + ".name,n9,STRING"),
        SessionCheck.query(s, "SELECT LAST day, name FROM " + dev));
    SessionCheck.check("new types: aggregation", Arrays.asList("12,1999-12-31,n9,1711929600000"),
        SessionCheck.query(s, "SELECT count(name), min_value(day), max_value(name), max_value(ts)"
            + " FROM " + dev));

    // The aggregation RPC: whole range, then [10, 20) in windows of 5.
    SessionCheck.check("executeAggregationQuery",
        Arrays.asList("12,12,n9"),
        SessionCheck.rows(s.executeAggregationQuery(Arrays.asList(dev + ".name", dev + ".ts",
            dev + ".name"), Arrays.asList(TAggregationType.COUNT, TAggregationType.COUNT,
            TAggregationType.MAX_VALUE))));
    SessionCheck.check("executeAggregationQuery with windows",
        Arrays.asList("10,5,10,0", "15,5,15,5000"),
        SessionCheck.rows(s.executeAggregationQuery(Arrays.asList(dev + ".ts", dev + ".ts",
            dev + ".ts"), Arrays.asList(TAggregationType.COUNT, TAggregationType.MIN_TIME,
            TAggregationType.FIRST_VALUE), 10, 20, 5)));
    SessionCheck.check("executeLastDataQueryForOneDevice",
        Arrays.asList("19," + dev + ".name,n9,STRING", "19," + dev + ".ts,9000,TIMESTAMP"),
        SessionCheck.rows(s.executeLastDataQueryForOneDevice(db, dev, Arrays.asList("name", "ts"),
            true)));

    // Activating a template through its RPC (1.3 only; 1.0 has the SQL statement alone).
    String tpl = "tpl_" + db.replace("root.", "").replace('.', '_');
    s.createSchemaTemplate(tpl, Arrays.asList("when"), Arrays.asList(TSDataType.DATE),
        Arrays.asList(TSEncoding.PLAIN), Arrays.asList(CompressionType.LZ4), true);
    s.setSchemaTemplate(tpl, db + ".tp");
    s.createTimeseriesUsingSchemaTemplate(Arrays.asList(db + ".tp.d1", db + ".tp.d2"));
    SessionCheck.check("createTimeseriesUsingSchemaTemplate",
        Arrays.asList(db + ".tp.d1,true", db + ".tp.d2,true"),
        SessionCheck.query(s, "SHOW DEVICES " + db + ".tp.*"));
    s.executeNonQueryStatement("DEACTIVATE SCHEMA TEMPLATE " + tpl + " FROM " + db + ".tp.**");
    s.unsetSchemaTemplate(db + ".tp", tpl);
    s.dropSchemaTemplate(tpl);
    s.deleteDatabase(db);
  }
}
