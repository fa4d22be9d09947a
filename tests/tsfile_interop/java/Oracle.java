// Cross-implementation oracle for iotdb-rs's `tsfile` crate, built against the official Java
// TsFile library from Maven Central (org.apache.tsfile:tsfile): version 1.1.x writes and reads
// V3 (what IoTDB 1.x uses), 2.x writes and reads V4. The same source compiles against both.
//
//   Oracle write <dir>      writes one file per (type, encoding, compressor) the library
//                           accepts (non-aligned, several pages) and one aligned file per
//                           compressor (every type, with nulls), plus <dir>/manifest.txt
//   Oracle read <file>...   prints every non-null point of every series of each file
//
// Text format (manifest and read output), one record per line:
//   F <file>                                   a file (read: "E <message>" if it failed)
//   S <device> <measurement> <type> [<encoding> <compressor>]
//   P <time> <value>                           value "null" in the manifest only
// Values: booleans true/false, integers and DATE (yyyymmdd) in decimal, FLOAT/DOUBLE as the
// decimal of the IEEE bits of the value widened to double ("nan" for NaN), TEXT/STRING/BLOB
// as hex bytes.

import java.io.File;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.apache.tsfile.enums.TSDataType;
import org.apache.tsfile.file.metadata.enums.CompressionType;
import org.apache.tsfile.file.metadata.enums.TSEncoding;
import org.apache.tsfile.read.TsFileReader;
import org.apache.tsfile.read.TsFileSequenceReader;
import org.apache.tsfile.read.common.Field;
import org.apache.tsfile.read.common.Path;
import org.apache.tsfile.read.common.RowRecord;
import org.apache.tsfile.read.expression.QueryExpression;
import org.apache.tsfile.read.query.dataset.QueryDataSet;
import org.apache.tsfile.utils.Binary;
import org.apache.tsfile.write.TsFileWriter;
import org.apache.tsfile.write.record.Tablet;
import org.apache.tsfile.write.schema.MeasurementSchema;

public class Oracle {
  static final String[] TYPES = {
    "BOOLEAN", "INT32", "INT64", "FLOAT", "DOUBLE", "TEXT", "STRING", "BLOB", "DATE", "TIMESTAMP"
  };
  static final String[] ENCODINGS = {
    "PLAIN", "DICTIONARY", "RLE", "TS_2DIFF", "GORILLA", "ZIGZAG", "CHIMP", "SPRINTZ", "RLBE"
  };
  static final String[] COMPRESSORS = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZ4", "ZSTD", "LZMA2"};
  static final int ROWS = 12_000;

  /** IoTDB's allowed (type, encoding) pairs (model::TSEncoding::supports). */
  static boolean allowed(String t, String e) {
    switch (t) {
      case "BOOLEAN":
        return e.equals("PLAIN") || e.equals("RLE");
      case "INT32":
      case "INT64":
      case "DATE":
      case "TIMESTAMP":
        return !e.equals("DICTIONARY");
      case "FLOAT":
      case "DOUBLE":
        return !e.equals("DICTIONARY") && !e.equals("ZIGZAG");
      default:
        return e.equals("PLAIN") || e.equals("DICTIONARY");
    }
  }

  /** Deterministic value i of type t (floats are multiples of 1/4: exact at precision 2). */
  static Object value(String t, int i) {
    int k = (int) ((i * 7919L) % 1000);
    switch (t) {
      case "BOOLEAN":
        return k % 3 == 0;
      case "INT32":
        return (i / 3) * 5 - 20000 + k % 7;
      case "INT64":
        return 1_700_000_000_000L + i * 1000L + k;
      case "FLOAT":
        return (k - 500) * 0.25f;
      case "DOUBLE":
        return Math.round(Math.sin(i / 10.0) * 400) / 4.0 + 0.0;
      case "TEXT":
        return new Binary(("t" + (k % 37)).getBytes(StandardCharsets.UTF_8));
      case "STRING":
        return new Binary(("s-" + (k % 11)).getBytes(StandardCharsets.UTF_8));
      case "BLOB":
        return new Binary(new byte[] {(byte) k, (byte) (k * 3), 0, (byte) 255});
      case "DATE":
        return LocalDate.of(2000 + i % 30, 1 + i % 12, 1 + i % 28);
      case "TIMESTAMP":
        return 1_600_000_000_000L + i * 37L;
      default:
        throw new IllegalArgumentException(t);
    }
  }

  static String canon(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof Boolean) {
      return v.toString();
    }
    if (v instanceof Integer || v instanceof Long) {
      return v.toString();
    }
    if (v instanceof Float || v instanceof Double) {
      double d = ((Number) v).doubleValue();
      return Double.isNaN(d) ? "nan" : Long.toUnsignedString(Double.doubleToRawLongBits(d));
    }
    if (v instanceof LocalDate) {
      LocalDate d = (LocalDate) v;
      return Integer.toString(d.getYear() * 10000 + d.getMonthValue() * 100 + d.getDayOfMonth());
    }
    byte[] b =
        v instanceof Binary
            ? ((Binary) v).getValues()
            : v.toString().getBytes(StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder();
    for (byte x : b) {
      sb.append(String.format("%02x", x & 0xff));
    }
    return sb.toString();
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static void writeFile(
      String path,
      String device,
      boolean aligned,
      List<MeasurementSchema> schemas,
      List<String> names,
      long[] times,
      Object[][] columns)
      throws Exception {
    File f = new File(path);
    f.delete();
    TsFileWriter w = new TsFileWriter(f);
    List list = new ArrayList(schemas);
    if (aligned) {
      w.registerAlignedTimeseries(new Path(device), list);
    } else {
      for (MeasurementSchema s : schemas) {
        w.registerTimeseries(new Path(device), s);
      }
    }
    Tablet tablet = new Tablet(device, list, times.length);
    for (int r = 0; r < times.length; r++) {
      tablet.addTimestamp(r, times[r]);
      for (int c = 0; c < schemas.size(); c++) {
        tablet.addValue(names.get(c), r, columns[c][r]);
      }
    }
    try { // tsfile 1.x keeps the row count in a public field, 2.x tracks it itself
      Tablet.class.getField("rowSize").setInt(tablet, times.length);
    } catch (NoSuchFieldException e) {
      // 2.x
    }
    String name = aligned ? "writeAligned" : "write";
    Method m;
    try {
      m = TsFileWriter.class.getMethod(aligned ? "writeAligned" : "writeTree", Tablet.class);
    } catch (NoSuchMethodException e) {
      m = TsFileWriter.class.getMethod(name, Tablet.class);
    }
    m.invoke(w, tablet);
    w.close();
  }

  static void write(String dir) throws Exception {
    new File(dir).mkdirs();
    PrintStream man = new PrintStream(new File(dir, "manifest.txt"), "UTF-8");
    int files = 0;
    int refused = 0;
    long[] times = new long[ROWS];
    for (int i = 0; i < ROWS; i++) {
      times[i] = 1_000 + i * 10L;
    }
    for (String t : TYPES) {
      for (String e : ENCODINGS) {
        if (!allowed(t, e)) {
          continue;
        }
        for (String c : COMPRESSORS) {
          String file = "java_" + t + "_" + e + "_" + c + ".tsfile";
          Object[] col = new Object[ROWS];
          for (int i = 0; i < ROWS; i++) {
            col[i] = value(t, i);
          }
          MeasurementSchema s =
              new MeasurementSchema(
                  "v", TSDataType.valueOf(t), TSEncoding.valueOf(e), CompressionType.valueOf(c));
          try {
            writeFile(
                dir + "/" + file,
                "root.interop.d1",
                false,
                Collections.singletonList(s),
                Collections.singletonList("v"),
                times,
                new Object[][] {col});
          } catch (Throwable ex) {
            new File(dir, file).delete();
            refused++;
            continue;
          }
          files++;
          man.println("F " + file);
          man.println("S root.interop.d1 v " + t + " " + e + " " + c);
          for (int i = 0; i < ROWS; i++) {
            man.println("P " + times[i] + " " + canon(col[i]));
          }
        }
      }
    }
    // Aligned: every type in one device, nulls in a different pattern per column.
    for (String c : COMPRESSORS) {
      String file = "java_aligned_" + c + ".tsfile";
      List<MeasurementSchema> schemas = new ArrayList<>();
      List<String> names = new ArrayList<>();
      Object[][] cols = new Object[TYPES.length][ROWS];
      for (int k = 0; k < TYPES.length; k++) {
        String t = TYPES[k];
        String enc = t.equals("BOOLEAN") ? "RLE" : (k % 2 == 0 ? "PLAIN" : defaultEncoding(t));
        names.add("m" + k);
        schemas.add(
            new MeasurementSchema(
                "m" + k, TSDataType.valueOf(t), TSEncoding.valueOf(enc), CompressionType.valueOf(c)));
        for (int i = 0; i < ROWS; i++) {
          cols[k][i] = (i + k) % (k + 3) == 0 ? null : value(t, i);
        }
      }
      try {
        writeFile(dir + "/" + file, "root.interop.aligned", true, schemas, names, times, cols);
      } catch (Throwable ex) {
        new File(dir, file).delete();
        refused++;
        continue;
      }
      files++;
      man.println("F " + file);
      for (int k = 0; k < TYPES.length; k++) {
        MeasurementSchema s = schemas.get(k);
        man.println(
            "S root.interop.aligned m"
                + k
                + " "
                + TYPES[k]
                + " "
                + s.getEncodingType()
                + " "
                + s.getCompressor());
        for (int i = 0; i < ROWS; i++) {
          man.println("P " + times[i] + " " + canon(cols[k][i]));
        }
      }
    }
    man.close();
    System.out.println("wrote " + files + " files, " + refused + " combinations refused");
  }

  static String defaultEncoding(String t) {
    switch (t) {
      case "FLOAT":
      case "DOUBLE":
        return "GORILLA";
      case "TEXT":
      case "STRING":
      case "BLOB":
        return "PLAIN";
      default:
        return "TS_2DIFF";
    }
  }

  static void read(String[] files) throws Exception {
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    for (String file : files) {
      out.println("F " + file);
      try (TsFileSequenceReader seq = new TsFileSequenceReader(file)) {
        TsFileReader reader = new TsFileReader(seq);
        for (Path p : seq.getAllPaths()) {
          String m = p.getMeasurement();
          if (m == null || m.isEmpty()) {
            continue; // aligned time column
          }
          QueryDataSet ds = reader.query(QueryExpression.create(Collections.singletonList(p), null));
          StringBuilder sb = new StringBuilder();
          String type = null;
          while (ds.hasNext()) {
            RowRecord r = ds.next();
            Field f = r.getFields().get(0);
            if (f == null || f.getDataType() == null) {
              continue;
            }
            type = f.getDataType().name();
            sb.append("P ")
                .append(r.getTimestamp())
                .append(' ')
                .append(canon(f.getObjectValue(f.getDataType())))
                .append('\n');
          }
          out.println("S " + deviceString(p) + " " + m + " " + (type == null ? "-" : type));
          out.print(sb);
        }
      } catch (Throwable ex) {
        out.println("E " + ex.toString().replace('\n', ' '));
      }
    }
    out.flush();
  }

  /** The device path of a Path: getDeviceString() in 2.x, getDevice() in 1.x. */
  static String deviceString(Path p) throws Exception {
    Method m;
    try {
      m = Path.class.getMethod("getDeviceString");
    } catch (NoSuchMethodException e) {
      m = Path.class.getMethod("getDevice");
    }
    return m.invoke(p).toString();
  }

  public static void main(String[] args) throws Exception {
    if (args.length >= 2 && args[0].equals("write")) {
      write(args[1]);
    } else if (args.length >= 2 && args[0].equals("read")) {
      String[] files = new String[args.length - 1];
      System.arraycopy(args, 1, files, 0, files.length);
      read(files);
    } else {
      System.err.println("usage: Oracle write <dir> | Oracle read <file>...");
      System.exit(2);
    }
  }
}
