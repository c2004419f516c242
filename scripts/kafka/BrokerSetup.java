// Readiness check and idempotent setup for the dev/test broker, run by start.sh with the Kafka
// jars on the classpath (compiled once into .cache/kafka/setup-classes). Uses the Java Admin
// client on the PLAINTEXT listener (principal ANONYMOUS, a super user), so start.sh needs no Node.
//
//   java BrokerSetup <bootstrap> <topic> <partitions> <timeoutSeconds> [aclUser]
//
// 1. retries describeCluster until the broker answers a real metadata request;
// 2. creates <topic> when missing;
// 3. when aclUser is given (StandardAuthorizer on): lets aclUser read/write/describe every topic,
//    use any group and transactional id, describe the cluster and write idempotently;
// 4. waits until every partition of <topic> has a leader, so a first produce does not bounce.
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;

public final class BrokerSetup {
  public static void main(String[] args) throws Exception {
    // The admin client logs every refused connection at WARN while the broker boots; keep quiet.
    Configurator.setAllLevels("", Level.ERROR);
    if (args.length < 4) {
      System.err.println("usage: BrokerSetup <bootstrap> <topic> <partitions> <timeoutSeconds> [aclUser]");
      System.exit(2);
    }
    String bootstrap = args[0];
    String topic = args[1];
    int partitions = Integer.parseInt(args[2]);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[3]));
    String aclUser = args.length > 4 ? args[4] : null;

    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "beacon-broker-setup");
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
    props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "500");

    try (Admin admin = Admin.create(props)) {
      String clusterId = retry(deadline, "describeCluster", () -> {
        var cluster = admin.describeCluster();
        int nodes = cluster.nodes().get().size();
        if (nodes == 0) throw new IllegalStateException("no brokers registered yet");
        return cluster.clusterId().get();
      });
      retry(deadline, "create topic " + topic, () -> {
        if (admin.listTopics().names().get().contains(topic)) return false;
        try {
          admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
          System.err.printf("[kafka] created topic %s (%d partitions)%n", topic, partitions);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) throw e;
        }
        return true;
      });
      if (aclUser != null) {
        List<AclBinding> acls = aclsFor("User:" + aclUser);
        retry(deadline, "create ACLs", () -> admin.createAcls(acls).all().get());
      }
      retry(deadline, "leaders for " + topic, () -> {
        TopicDescription d = admin.describeTopics(Set.of(topic)).allTopicNames().get().get(topic);
        for (TopicPartitionInfo p : d.partitions()) {
          if (p.leader() == null || p.leader().isEmpty()) throw new IllegalStateException("partition " + p.partition() + " has no leader");
        }
        return d.partitions().size();
      });
      System.err.printf("[kafka] broker ready (cluster %s)%n", clusterId);
    }
  }

  private static List<AclBinding> aclsFor(String principal) {
    List<AclBinding> acls = new ArrayList<>();
    Map<ResourcePattern, List<AclOperation>> grants = Map.of(
        new ResourcePattern(ResourceType.TOPIC, "*", PatternType.LITERAL),
        List.of(AclOperation.WRITE, AclOperation.READ, AclOperation.DESCRIBE),
        new ResourcePattern(ResourceType.GROUP, "*", PatternType.LITERAL),
        List.of(AclOperation.READ, AclOperation.DESCRIBE),
        new ResourcePattern(ResourceType.TRANSACTIONAL_ID, "*", PatternType.LITERAL),
        List.of(AclOperation.WRITE, AclOperation.DESCRIBE),
        new ResourcePattern(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL),
        List.of(AclOperation.DESCRIBE, AclOperation.IDEMPOTENT_WRITE));
    grants.forEach((pattern, ops) -> ops.forEach(op -> acls.add(new AclBinding(pattern,
        new AccessControlEntry(principal, "*", op, AclPermissionType.ALLOW)))));
    return acls;
  }

  interface Step<T> { T run() throws Exception; }

  private static <T> T retry(long deadline, String what, Step<T> step) throws InterruptedException {
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        return step.run();
      } catch (Exception e) {
        last = e;
        Thread.sleep(300);
      }
    }
    Throwable cause = last instanceof ExecutionException && last.getCause() != null ? last.getCause() : last;
    System.err.printf("[kafka] ERROR: %s did not succeed before the deadline: %s%n", what, cause);
    System.exit(1);
    return null;
  }
}
