// A token request as a Java program sends it: java.net.http's HttpClient
// with a Basic header built from the UTF-8 bytes of "id:secret".
// Run by TestBasicFromRealClients (java Token.java); API, ID and SECRET
// come from the environment.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

public class Token {
    public static void main(String[] args) throws Exception {
        String basic = Base64.getEncoder().encodeToString(
            (System.getenv("ID") + ":" + System.getenv("SECRET")).getBytes(StandardCharsets.UTF_8));
        HttpRequest req = HttpRequest.newBuilder(URI.create(System.getenv("API") + "/oauth2/token"))
            .header("Authorization", "Basic " + basic)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
            .build();
        System.out.println(HttpClient.newHttpClient().send(req, HttpResponse.BodyHandlers.ofString()).body());
    }
}
