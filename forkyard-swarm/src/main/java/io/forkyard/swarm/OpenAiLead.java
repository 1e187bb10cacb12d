package io.forkyard.swarm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A lead backed by any OpenAI-compatible chat-completions endpoint (OpenAI, Ollama, vLLM,
 * llama.cpp). Retries 429 and 5xx with exponential backoff, honouring Retry-After; a 401 or 403
 * fails at once with a message about the key.
 */
public final class OpenAiLead implements Lead {
  public static final String DEFAULT_BASE_URL = "https://api.openai.com/v1";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  /**
   * @param baseUrl up to and including the API version, e.g. https://api.openai.com/v1
   * @param apiKey sent as a bearer token; empty for local servers without auth
   * @param requestTimeout per HTTP attempt
   * @param maxAttempts attempts in all, retries included
   * @param backoff first retry delay; doubles per retry unless the server says Retry-After
   */
  public record Config(
      String baseUrl,
      String model,
      Optional<String> apiKey,
      Duration connectTimeout,
      Duration requestTimeout,
      int maxAttempts,
      Duration backoff) {
    public Config {
      baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
      if (!baseUrl.startsWith("http://") && !baseUrl.startsWith("https://")) {
        throw new io.forkyard.api.InvalidRequestException(
            "LLM base URL must start with http:// or https://, got '" + baseUrl + "'");
      }
      apiKey = apiKey == null ? Optional.empty() : apiKey.filter(k -> !k.isBlank());
      if (maxAttempts < 1) {
        throw new io.forkyard.api.InvalidRequestException("maxAttempts must be at least 1");
      }
    }

    public static Config of(String baseUrl, String model, Optional<String> apiKey) {
      return new Config(
          baseUrl,
          model,
          apiKey,
          Duration.ofSeconds(10),
          Duration.ofSeconds(90),
          4,
          Duration.ofMillis(500));
    }

    /**
     * From the options, else OPENAI_BASE_URL / OPENAI_MODEL / OPENAI_API_KEY. Empty when neither a
     * key nor a base URL is configured anywhere: then the offline lead is used.
     */
    public static Optional<Config> resolve(SwarmOptions o, Map<String, String> env) {
      Optional<String> key = o.llmApiKey().or(() -> nonBlank(env.get("OPENAI_API_KEY")));
      Optional<String> base = o.llmBaseUrl().or(() -> nonBlank(env.get("OPENAI_BASE_URL")));
      if (o.offlineLead() || (key.isEmpty() && base.isEmpty())) {
        return Optional.empty();
      }
      String model =
          o.llmModel()
              .or(() -> nonBlank(env.get("OPENAI_MODEL")))
              .orElse(SwarmOptions.DEFAULT_MODEL);
      return Optional.of(of(base.orElse(DEFAULT_BASE_URL), model, key));
    }

    private static Optional<String> nonBlank(String s) {
      return s == null || s.isBlank() ? Optional.empty() : Optional.of(s);
    }
  }

  private final Config config;
  private final HttpClient http;

  public OpenAiLead(Config config) {
    this.config = config;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(config.connectTimeout())
            .version(HttpClient.Version.HTTP_1_1)
            .build();
  }

  @Override
  public String kind() {
    return "openai";
  }

  public Config config() {
    return config;
  }

  @Override
  public LeadReport aggregate(LeadInput input) {
    String body = requestBody(input);
    String content = complete(body);
    return parseVerdict(content);
  }

  /** Sends the request with retries; returns the assistant message content. */
  String complete(String body) {
    URI uri = URI.create(config.baseUrl() + "/chat/completions");
    String lastProblem = "";
    Duration delay = config.backoff();
    for (int attempt = 1; attempt <= config.maxAttempts(); attempt++) {
      HttpRequest.Builder rb =
          HttpRequest.newBuilder(uri)
              .timeout(config.requestTimeout())
              .header("Content-Type", "application/json")
              .header("Accept", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body));
      config.apiKey().ifPresent(k -> rb.header("Authorization", "Bearer " + k));
      Optional<Duration> retryAfter = Optional.empty();
      try {
        HttpResponse<String> r = http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
        int code = r.statusCode();
        if (code / 100 == 2) {
          return messageContent(r.body());
        }
        if (code == 401 || code == 403) {
          throw new LeadException(
              "the LLM endpoint "
                  + uri
                  + " refused the API key (HTTP "
                  + code
                  + "); check --llm-key / OPENAI_API_KEY"
                  + snippet(r.body()));
        }
        if (code != 429 && code / 100 != 5) {
          throw new LeadException(
              "the LLM endpoint " + uri + " answered HTTP " + code + snippet(r.body()));
        }
        lastProblem = "HTTP " + code + snippet(r.body());
        retryAfter = retryAfter(r.headers().firstValue("Retry-After"));
      } catch (HttpTimeoutException e) {
        lastProblem = "no answer within " + config.requestTimeout().toSeconds() + " s";
      } catch (IOException e) {
        lastProblem = "cannot reach " + uri + ": " + e.getMessage();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LeadException("interrupted while waiting for the LLM", e);
      }
      if (attempt == config.maxAttempts()) {
        break;
      }
      Duration wait = retryAfter.orElse(delay);
      if (wait.compareTo(MAX_BACKOFF) > 0) {
        wait = MAX_BACKOFF;
      }
      try {
        Thread.sleep(wait.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LeadException("interrupted while waiting to retry the LLM", e);
      }
      delay = delay.multipliedBy(2);
    }
    throw new LeadException(
        "the LLM endpoint failed after " + config.maxAttempts() + " attempts: " + lastProblem);
  }

  static Optional<Duration> retryAfter(Optional<String> header) {
    if (header.isEmpty()) {
      return Optional.empty();
    }
    String v = header.get().trim();
    try {
      double secs = Double.parseDouble(v);
      return secs < 0 ? Optional.empty() : Optional.of(Duration.ofMillis((long) (secs * 1000)));
    } catch (NumberFormatException e) {
      try {
        ZonedDateTime when = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
        Duration d = Duration.between(ZonedDateTime.now(when.getZone()), when);
        return Optional.of(d.isNegative() ? Duration.ZERO : d);
      } catch (RuntimeException ignored) {
        return Optional.empty();
      }
    }
  }

  private static String messageContent(String body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw new LeadException("the LLM answered with a body that is not JSON" + snippet(body));
    }
    JsonNode content =
        root == null ? null : root.path("choices").path(0).path("message").path("content");
    if (content == null || !content.isTextual() || content.asText().isBlank()) {
      throw new LeadException("the LLM answer has no choices[0].message.content" + snippet(body));
    }
    return content.asText();
  }

  /** Parses the model's JSON verdict; tolerant of code fences around it. */
  LeadReport parseVerdict(String content) {
    String text = content.strip();
    int start = text.indexOf('{');
    int end = text.lastIndexOf('}');
    if (start < 0 || end <= start) {
      throw new LeadException("the LLM did not answer with a JSON object" + snippet(text));
    }
    JsonNode v;
    try {
      v = JSON.readTree(text.substring(start, end + 1));
    } catch (IOException e) {
      throw new LeadException("the LLM's verdict is not valid JSON" + snippet(text));
    }
    JsonNode health = v.get("health_score");
    if (health == null || !health.isNumber()) {
      throw new LeadException("the LLM's verdict has no numeric health_score" + snippet(text));
    }
    List<LeadIssue> issues = new ArrayList<>();
    for (JsonNode i : v.path("top_issues")) {
      String sev = i.path("severity").asText("LOW").toUpperCase(Locale.ROOT);
      if (!List.of("HIGH", "MEDIUM", "LOW").contains(sev)) {
        sev = "LOW";
      }
      issues.add(
          new LeadIssue(
              i.path("file").asText(""),
              i.path("line").asInt(0),
              sev,
              i.path("title").asText(i.path("description").asText("")),
              i.path("perspective").asText("")));
      if (issues.size() == 3) {
        break;
      }
    }
    List<String> actions = new ArrayList<>();
    for (JsonNode a : v.path("next_actions")) {
      actions.add(a.isTextual() ? a.asText() : a.toString());
    }
    if (issues.isEmpty() && actions.isEmpty()) {
      throw new LeadException(
          "the LLM's verdict has neither top_issues nor next_actions" + snippet(text));
    }
    return new LeadReport(
        kind(),
        Optional.of(config.model()),
        (int) Math.round(health.asDouble()),
        issues,
        actions,
        v.path("scale_sentence").asText(""),
        Optional.empty());
  }

  String requestBody(LeadInput input) {
    ObjectNode req = JSON.createObjectNode();
    req.put("model", config.model());
    req.put("temperature", 0);
    req.putObject("response_format").put("type", "json_object");
    ArrayNode messages = req.putArray("messages");
    messages
        .addObject()
        .put("role", "system")
        .put(
            "content",
            "You are the lead engineer of a code-analysis swarm. Several agents each analysed the"
                + " same Python code base from one perspective. Read their reports and the timing"
                + " data and answer with ONE JSON object, no prose, with exactly these keys:"
                + " \"health_score\" (integer 0-100), \"top_issues\" (array of exactly three objects"
                + " with \"file\", \"line\" (integer), \"severity\" (HIGH, MEDIUM or LOW), \"title\","
                + " \"perspective\"), \"next_actions\" (array of short imperative strings, most"
                + " important first), \"scale_sentence\" (one sentence on what the measured speedup"
                + " means at scale). Use only files and lines that appear in the reports. Agents"
                + " marked failed produced no data: mention them in next_actions.");
    messages.addObject().put("role", "user").put("content", promptData(input).toString());
    return req.toString();
  }

  static ObjectNode promptData(LeadInput in) {
    ObjectNode d = JSON.createObjectNode();
    d.put("target", in.target());
    ObjectNode t = d.putObject("timing");
    t.put("agents", in.agents().size());
    t.put("cores", in.cores());
    t.put("setup_time_s", round(in.setupTimeS()));
    t.put("mean_fork_time_s", round(in.forkTimeS()));
    t.put("sequential_total_s", round(in.sequentialTotalS()));
    t.put("parallel_total_s", round(in.parallelTotalS()));
    t.put("speedup", round(in.speedup()));
    t.put("efficiency_pct", round(in.efficiencyPct()));
    ArrayNode agents = d.putArray("agents");
    for (AgentResult a : in.agents()) {
      ObjectNode o = agents.addObject();
      o.put("agent_id", a.agentId());
      o.put("perspective", a.perspective());
      if (a.ok()) {
        o.put("score", a.score());
        o.put("finding", a.finding());
        o.set("details", JSON.valueToTree(trimmed(a.details())));
      } else {
        o.put("failed", true);
        o.put("error", a.error().orElse(""));
      }
    }
    return d;
  }

  /** Drops the bulky per-block lists that only the agreement checks need. */
  private static Map<String, Object> trimmed(Map<String, Object> details) {
    Map<String, Object> out = new java.util.LinkedHashMap<>(details);
    out.remove("blocks");
    out.remove("per_file");
    return out;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private static String snippet(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    String one = body.replaceAll("\\s+", " ").strip();
    return ": " + (one.length() > 300 ? one.substring(0, 300) + "…" : one);
  }
}
