namespace Predastore.Ingest;
