module github.com/iotdb-rs/iotdb-rs/tests/go_client

go 1.18

require github.com/apache/iotdb-client-go v1.3.7

require github.com/apache/thrift v0.15.0 // indirect
