// Launcher for Apache IoTDB 1.0.1's built-in standalone mode, used by scripts/reference-iotdb
// (IOTDB_REF_VERSION=1.0.1) to let the real 1.0.1 storage engine write V3 TsFiles.
//
// Two gaps of that mode are bridged here, without touching IoTDB itself:
//  1. its entry point checks system.properties before anything creates it, so we run the
//     first-start check (which writes the file) before handing over;
//  2. after every insert it compares the region leader's client endpoint with its own address;
//     in standalone mode the leader endpoint is an empty struct, so it answers with a redirect to
//     that empty endpoint, which Thrift then refuses to serialise (the connection drops). Once the
//     RPC server is bound we clear the node's own address so the two compare equal and no
//     redirect is produced.
class ReferenceIotdbStandalone {
  public static void main(String[] args) throws Exception {
    org.apache.iotdb.db.conf.IoTDBStartCheck.getInstance().checkIsFirstStart();
    org.apache.iotdb.db.service.NewIoTDB.main(args);
    org.apache.iotdb.db.conf.IoTDBConfig config =
        org.apache.iotdb.db.conf.IoTDBDescriptor.getInstance().getConfig();
    config.setRpcAddress(null);
    config.setRpcPort(0);
  }
}
