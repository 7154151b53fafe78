package creditlink.neo4j;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * Runs a Neo4j 5.26 community DBMS in this JVM with a Bolt connector, for
 * creditlink's tests and local development. Started by scripts/neo4j.sh.
 *
 * <p>Arguments (all optional):
 * <pre>
 *   --home DIR          Neo4j home: data/ and logs/ go below it (default ./.neo4j)
 *   --port N            Bolt port on 127.0.0.1 (default 7687)
 *   --pid-file FILE     where to write this process's PID (removed on clean exit)
 *   --pagecache SIZE    page cache size, e.g. 256m, 1g (default 256m)
 *   --tx-memory SIZE    most memory one transaction may use (db.memory.transaction.max);
 *                       default: Neo4j's own (no per-transaction limit, 70% of the heap in all)
 *   --ready-file FILE   created once the DBMS is up and the password is set (removed on exit);
 *                       Bolt may accept connections a moment before that, with the old password
 * </pre>
 * The password of the {@code neo4j} user is read from the environment variable
 * {@code CREDITLINK_NEO4J_PASSWORD} (default {@code creditlink-dev}) so that it
 * never shows up in a process listing. It is (re)applied on every start through
 * the {@code system} database, so changing the variable changes the password.
 *
 * <p>SIGTERM/SIGINT run a shutdown hook that shuts the DBMS down cleanly.
 */
public final class Launcher {

    private static final String DEFAULT_PASSWORD = "creditlink-dev";

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        Path home = Path.of(".neo4j");
        int port = 7687;
        Path pidFile = null;
        Path readyFile = null;
        long pageCache = ByteUnit.mebiBytes(256);
        Long txMemory = null;

        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--home" -> home = Path.of(value(args, ++i, a));
                case "--port" -> port = Integer.parseInt(value(args, ++i, a));
                case "--pid-file" -> pidFile = Path.of(value(args, ++i, a));
                case "--pagecache" -> pageCache = ByteUnit.parse(value(args, ++i, a));
                case "--tx-memory" -> txMemory = ByteUnit.parse(value(args, ++i, a));
                case "--ready-file" -> readyFile = Path.of(value(args, ++i, a));
                default -> {
                    System.err.println("neo4j-launcher: unknown argument " + a);
                    System.exit(2);
                }
            }
        }
        String password = System.getenv().getOrDefault("CREDITLINK_NEO4J_PASSWORD", DEFAULT_PASSWORD);
        if (password.isEmpty()) {
            System.err.println("neo4j-launcher: CREDITLINK_NEO4J_PASSWORD must not be empty");
            System.exit(2);
        }

        home = home.toAbsolutePath().normalize();
        Files.createDirectories(home.resolve("logs"));
        long pid = ProcessHandle.current().pid();
        if (readyFile != null) {
            Files.deleteIfExists(readyFile);
        }
        if (pidFile != null) {
            writePid(pidFile, pid);
        }
        log("starting Neo4j 5.26 (pid " + pid + ", home " + home + ", bolt 127.0.0.1:" + port + ")");
        Instant t0 = Instant.now();

        Map<org.neo4j.graphdb.config.Setting<?>, Object> cfg = new HashMap<>();
        cfg.put(GraphDatabaseSettings.default_listen_address, new SocketAddress("127.0.0.1"));
        cfg.put(GraphDatabaseSettings.default_advertised_address, new SocketAddress("127.0.0.1"));
        cfg.put(BoltConnector.enabled, true);
        cfg.put(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port));
        cfg.put(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port));
        cfg.put(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED);
        cfg.put(HttpConnector.enabled, false);
        cfg.put(HttpsConnector.enabled, false);
        cfg.put(GraphDatabaseSettings.routing_enabled, false);
        cfg.put(GraphDatabaseSettings.auth_enabled, true);
        cfg.put(GraphDatabaseSettings.auth_minimum_password_length, 1);
        cfg.put(GraphDatabaseSettings.pagecache_memory, pageCache);
        if (txMemory != null) {
            cfg.put(GraphDatabaseSettings.memory_transaction_max_size, txMemory);
        }
        cfg.put(GraphDatabaseSettings.logs_directory, home.resolve("logs"));
        cfg.put(GraphDatabaseSettings.udc_enabled, false);
        // Transaction timeouts (driver-side tx timeouts included) are enforced by a monitor that
        // runs every 2 s by default; check more often so short test timeouts fire promptly.
        cfg.put(GraphDatabaseSettings.transaction_monitor_check_interval, Duration.ofMillis(200));

        Log4jLogProvider userLog = new Log4jLogProvider(System.out, Level.INFO);
        DatabaseManagementService dbms;
        try {
            dbms = new DatabaseManagementServiceBuilder(home)
                    .setConfig(cfg)
                    .setUserLogProvider(userLog)
                    .build();
        } catch (RuntimeException e) {
            log("failed to start: " + e);
            e.printStackTrace(System.out);
            deletePid(pidFile, pid);
            System.exit(1);
            return;
        }

        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean down = new AtomicBoolean(false);
        final Path pidFileFinal = pidFile;
        final Path readyFileFinal = readyFile;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (down.compareAndSet(false, true)) {
                log("shutting down");
                deleteQuietly(readyFileFinal);
                try {
                    dbms.shutdown();
                    log("shut down cleanly");
                } catch (RuntimeException e) {
                    log("error during shutdown: " + e);
                } finally {
                    deletePid(pidFileFinal, pid);
                    userLog.close();
                    stopped.countDown();
                }
            }
        }, "neo4j-launcher-shutdown"));

        try {
            setPassword(dbms, password);
        } catch (RuntimeException e) {
            log("could not set the password of user neo4j: " + e.getMessage());
            System.exit(1);
        }

        if (readyFile != null) {
            writePid(readyFile, pid);
        }
        long ms = Duration.between(t0, Instant.now()).toMillis();
        log("Bolt enabled on 127.0.0.1:" + port + "; started in " + ms + " ms");
        stopped.await();
    }

    /**
     * Sets the neo4j user's password and clears "change required". Neo4j refuses to set a password
     * equal to the current one; that case means it is already right and is fine.
     */
    private static void setPassword(DatabaseManagementService dbms, String password) {
        var system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        try {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
            log("password of user neo4j set");
        } catch (RuntimeException e) {
            String msg = String.valueOf(e.getMessage()).toLowerCase();
            if (msg.contains("same")) {
                log("password of user neo4j already set (" + e.getMessage() + ")");
            } else {
                throw e;
            }
        }
    }

    private static String value(String[] args, int i, String name) {
        if (i >= args.length) {
            System.err.println("neo4j-launcher: " + name + " needs a value");
            System.exit(2);
        }
        return args[i];
    }

    private static void writePid(Path pidFile, long pid) throws IOException {
        Path parent = pidFile.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(pidFile, pid + "\n", StandardCharsets.US_ASCII);
    }

    /** Removes the PID file only if it still names this process. */
    private static void deletePid(Path pidFile, long pid) {
        if (pidFile == null) {
            return;
        }
        try {
            String content = Files.readString(pidFile, StandardCharsets.US_ASCII).trim();
            if (content.equals(Long.toString(pid))) {
                Files.deleteIfExists(pidFile);
            }
        } catch (IOException ignored) {
            // already gone or unreadable: nothing to clean up
        }
    }

    private static void deleteQuietly(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // nothing useful to do while shutting down
        }
    }

    private static void log(String msg) {
        System.out.println(Instant.now() + " [creditlink.neo4j.Launcher] " + msg);
        System.out.flush();
    }
}
