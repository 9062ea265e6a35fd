import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local bound to 127.0.0.1. Its own launcher (ServerRunner) creates Jetty with `new Server(port)`, which
 * listens on every interface, and offers no option to choose the address: anyone on the network could then read
 * and rewrite a developer's jobs, and the local agent would run what they wrote. This builds the same server from
 * the same command line, sets its connectors' host to loopback before starting it, and sends no telemetry.
 *
 * Compiled once into node_modules/.cache when a JDK's javac is at hand (local/dynamodb-watchdog.mjs), and otherwise
 * run as a single-file source program (`java LoopbackDynamoDbLocal.java ...`, JEP 330) that the JRE compiles in
 * memory at each start: either way nothing is downloaded or committed as a binary.
 */
public class LoopbackDynamoDbLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      if (!(connector instanceof ServerConnector)) throw new IllegalStateException("Unexpected Jetty connector " + connector);
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    proxy.start();
  }
}
