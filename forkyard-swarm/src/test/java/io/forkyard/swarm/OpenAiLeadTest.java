package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The LLM client against a local server speaking the chat-completions protocol. */
class OpenAiLeadTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String VERDICT =
      """
      {"health_score": 41, "top_issues": [
        {"file": "shop/backup.py", "line": 8, "severity": "HIGH", "title": "shell=True"},
        {"file": "shop/calculator.py", "line": 6, "severity": "medium", "title": "eval"},
        {"file": "shop/pricing.py", "line": 4, "severity": "LOW", "title": "complex"}],
       "next_actions": ["drop shell=True", "replace eval"],
       "scale_sentence": "More agents, same wall time."}""";

  @TempDir Path tmp;
  private HttpServer server;
  private final List<String> bodies = new CopyOnWriteArrayList<>();
  private final List<String> auth = new CopyOnWriteArrayList<>();
  private final AtomicInteger calls = new AtomicInteger();
  private volatile Responder responder;

  interface Responder {
    void respond(HttpExchange ex, int call) throws IOException;
  }

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/v1/chat/completions",
        ex -> {
          bodies.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          auth.add(String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
          responder.respond(ex, calls.incrementAndGet());
          ex.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private static void send(HttpExchange ex, int status, String body, Map<String, String> headers)
      throws IOException {
    headers.forEach((k, v) -> ex.getResponseHeaders().add(k, v));
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
    if (b.length > 0) {
      ex.getResponseBody().write(b);
    }
  }

  private static String completion(String content) {
    return JSON.createObjectNode()
        .set(
            "choices",
            JSON.createArrayNode()
                .add(
                    JSON.createObjectNode()
                        .set(
                            "message",
                            JSON.createObjectNode()
                                .put("role", "assistant")
                                .put("content", content))))
        .toString();
  }

  private OpenAiLead lead() {
    return new OpenAiLead(
        new OpenAiLead.Config(
            "http://127.0.0.1:" + server.getAddress().getPort() + "/v1",
            "test-model",
            Optional.of("sk-test"),
            Duration.ofSeconds(2),
            Duration.ofSeconds(5),
            3,
            Duration.ofMillis(20)));
  }

  private LeadInput input() throws Exception {
    return LeadFixtures.input(LeadFixtures.sampleAgents(tmp));
  }

  @Test
  void parsesTheVerdict() throws Exception {
    responder = (ex, n) -> send(ex, 200, completion("```json\n" + VERDICT + "\n```"), Map.of());
    LeadReport r = lead().aggregate(input());
    assertThat(r.kind()).isEqualTo("openai");
    assertThat(r.model()).hasValue("test-model");
    assertThat(r.healthScore()).isEqualTo(41);
    assertThat(r.topIssues())
        .extracting(LeadIssue::severity)
        .containsExactly("HIGH", "MEDIUM", "LOW");
    assertThat(r.nextActions()).containsExactly("drop shell=True", "replace eval");
    assertThat(auth).containsExactly("Bearer sk-test");
    JsonNode req = JSON.readTree(bodies.get(0));
    assertThat(req.get("model").asText()).isEqualTo("test-model");
    assertThat(req.get("response_format").get("type").asText()).isEqualTo("json_object");
    String user = req.get("messages").get(1).get("content").asText();
    assertThat(user).contains("B602", "shop/backup.py", "speedup");
  }

  @Test
  void retries429HonouringRetryAfterThenSucceeds() throws Exception {
    responder =
        (ex, n) -> {
          if (n == 1) {
            send(ex, 429, "{\"error\":{\"message\":\"slow down\"}}", Map.of("Retry-After", "0"));
          } else {
            send(ex, 200, completion(VERDICT), Map.of());
          }
        };
    assertThat(lead().aggregate(input()).healthScore()).isEqualTo(41);
    assertThat(calls.get()).isEqualTo(2);
  }

  @Test
  void retries5xxUntilAttemptsRunOut() throws Exception {
    responder = (ex, n) -> send(ex, 503, "overloaded", Map.of());
    assertThatThrownBy(() -> lead().aggregate(input()))
        .isInstanceOf(LeadException.class)
        .hasMessageContaining("after 3 attempts", "HTTP 503");
    assertThat(calls.get()).isEqualTo(3);
  }

  @Test
  void fails401AtOnceWithAMessageAboutTheKey() throws Exception {
    responder = (ex, n) -> send(ex, 401, "{\"error\":{\"message\":\"bad key\"}}", Map.of());
    assertThatThrownBy(() -> lead().aggregate(input()))
        .isInstanceOf(LeadException.class)
        .hasMessageContaining("HTTP 401", "OPENAI_API_KEY");
    assertThat(calls.get()).isEqualTo(1);
  }

  @Test
  void malformedBodiesAreLeadErrors() throws Exception {
    responder = (ex, n) -> send(ex, 200, "<html>proxy error</html>", Map.of());
    assertThatThrownBy(() -> lead().aggregate(input()))
        .isInstanceOf(LeadException.class)
        .hasMessageContaining("not JSON");
    responder = (ex, n) -> send(ex, 200, "{\"choices\":[]}", Map.of());
    assertThatThrownBy(() -> lead().aggregate(input())).hasMessageContaining("choices[0]");
    responder = (ex, n) -> send(ex, 200, completion("I think the code is fine."), Map.of());
    assertThatThrownBy(() -> lead().aggregate(input())).hasMessageContaining("JSON object");
    responder = (ex, n) -> send(ex, 200, completion("{\"top_issues\": []}"), Map.of());
    assertThatThrownBy(() -> lead().aggregate(input())).hasMessageContaining("health_score");
  }

  @Test
  void retryAfterAcceptsSecondsAndDates() {
    assertThat(OpenAiLead.retryAfter(Optional.of("2"))).hasValue(Duration.ofSeconds(2));
    assertThat(OpenAiLead.retryAfter(Optional.of("Wed, 21 Oct 2015 07:28:00 GMT")))
        .hasValue(Duration.ZERO);
    assertThat(OpenAiLead.retryAfter(Optional.of("soon"))).isEmpty();
  }

  @Test
  void configComesFromOptionsThenEnvironment() {
    SwarmOptions none = SwarmOptions.defaults();
    assertThat(OpenAiLead.Config.resolve(none, Map.of())).isEmpty();
    OpenAiLead.Config c =
        OpenAiLead.Config.resolve(none, Map.of("OPENAI_API_KEY", "k", "OPENAI_MODEL", "m"))
            .orElseThrow();
    assertThat(c.baseUrl()).isEqualTo(OpenAiLead.DEFAULT_BASE_URL);
    assertThat(c.model()).isEqualTo("m");
    OpenAiLead.Config local =
        OpenAiLead.Config.resolve(
                SwarmOptions.builder().llmBaseUrl("http://127.0.0.1:11434/v1/").build(), Map.of())
            .orElseThrow();
    assertThat(local.apiKey()).isEmpty();
    assertThat(local.baseUrl()).isEqualTo("http://127.0.0.1:11434/v1");
    assertThat(
            OpenAiLead.Config.resolve(
                SwarmOptions.builder().offlineLead(true).build(), Map.of("OPENAI_API_KEY", "k")))
        .isEmpty();
  }
}
