namespace Predastore.Metadata;
