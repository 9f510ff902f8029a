namespace Predastore.Transport;
