namespace Predastore.Encode;
