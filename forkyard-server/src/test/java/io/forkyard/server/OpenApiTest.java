package io.forkyard.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkyard.api.Sandboxes;
import io.forkyard.testkit.FakeSandboxes;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The served OpenAPI document and the registered routes are the same set; every SDK op has one. */
class OpenApiTest {
  private static final Pattern PATH = Pattern.compile("^  (/\\S*):\\s*$");
  private static final Pattern METHOD = Pattern.compile("^    (get|post|put|delete|patch):\\s*$");

  /** Each abstract Sandboxes operation and the route that stands for it. */
  private static final Map<String, String> SDK_ROUTES =
      Map.ofEntries(
          Map.entry("create", "POST /v1/sandboxes"),
          Map.entry("fork", "POST /v1/snapshots/{id}/fork"),
          Map.entry("info", "GET /v1/sandboxes/{id}"),
          Map.entry("list", "GET /v1/sandboxes"),
          Map.entry("terminate", "DELETE /v1/sandboxes/{id}"),
          Map.entry("exec", "POST /v1/sandboxes/{id}/exec/stream"),
          Map.entry("writeFile", "PUT /v1/sandboxes/{id}/files"),
          Map.entry("readFile", "GET /v1/sandboxes/{id}/files"),
          Map.entry("listDirectory", "GET /v1/sandboxes/{id}/ls"),
          Map.entry("deleteFile", "DELETE /v1/sandboxes/{id}/files"),
          Map.entry("checkpoint", "POST /v1/sandboxes/{id}/checkpoint"),
          Map.entry("snapshot", "GET /v1/snapshots/{id}"),
          Map.entry("snapshots", "GET /v1/snapshots"),
          Map.entry("deleteSnapshot", "DELETE /v1/snapshots/{id}"),
          Map.entry("suspend", "POST /v1/sandboxes/{id}/suspend"),
          Map.entry("resume", "POST /v1/sandboxes/{id}/resume"),
          Map.entry("images", "GET /v1/images"),
          Map.entry("buildImage", "POST /v1/images"),
          Map.entry("deleteImage", "DELETE /v1/images/{name}"),
          Map.entry("close", "-"));

  static Set<String> documented() throws Exception {
    String yaml;
    try (InputStream in = OpenApiTest.class.getResourceAsStream("/openapi.yaml")) {
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Set<String> ops = new TreeSet<>();
    boolean inPaths = false;
    String path = null;
    for (String line : yaml.split("\n")) {
      if (line.equals("paths:")) {
        inPaths = true;
        continue;
      }
      if (inPaths && !line.isEmpty() && !line.startsWith(" ")) {
        break;
      }
      Matcher p = PATH.matcher(line);
      Matcher m = METHOD.matcher(line);
      if (p.matches()) {
        path = p.group(1);
      } else if (m.matches() && path != null) {
        ops.add(m.group(1).toUpperCase() + " " + path);
      }
    }
    return ops;
  }

  static Set<String> registered() {
    ForkyardServer server =
        ForkyardServer.builder().sandboxes(FakeSandboxes.runningOnHost()).port(0).build().start();
    try {
      return server.routes().stream()
          .map(r -> r.method() + " " + r.path())
          .collect(Collectors.toCollection(TreeSet::new));
    } finally {
      server.stop();
    }
  }

  @Test
  void documentsExactlyTheRegisteredRoutes() throws Exception {
    Set<String> documented = documented();
    assertThat(documented).hasSizeGreaterThan(20);
    assertThat(documented).isEqualTo(registered());
  }

  @Test
  void everySdkOperationHasARoute() {
    Set<String> routes = registered();
    for (Method m : Sandboxes.class.getMethods()) {
      if (!Modifier.isAbstract(m.getModifiers())) {
        continue;
      }
      String route = SDK_ROUTES.get(m.getName());
      assertThat(route)
          .as("route for Sandboxes.%s%s", m.getName(), Arrays.toString(m.getParameterTypes()))
          .isNotNull();
      if (!route.equals("-")) {
        assertThat(routes).as("Sandboxes.%s", m.getName()).contains(route);
      }
    }
  }
}
