// pgjdbc with pam_oauth2: an authentication plugin (pgjdbc 42.3+) that asks pam_oauth2_token for
// the password of each new connection, so pools never reuse an expired token. Use it with
//   jdbc:postgresql://db.example.com/app?user=alice&authenticationPluginClassName=PamOauth2TokenPlugin
// (and -Dpam_oauth2.profile=NAME for another profile than "prod"). The token never leaves this JVM
// and the helper's own process; run pam_oauth2_token once by hand to sign in.
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.postgresql.plugin.AuthenticationPlugin;
import org.postgresql.plugin.AuthenticationRequestType;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

public class PamOauth2TokenPlugin implements AuthenticationPlugin {
    @Override
    public char[] getPassword(AuthenticationRequestType type) throws PSQLException {
        String profile = System.getProperty("pam_oauth2.profile", "prod");
        ProcessBuilder helper = new ProcessBuilder("pam_oauth2_token", "-p", profile, "--no-prompt");
        helper.redirectError(ProcessBuilder.Redirect.INHERIT);
        try {
            Process process = helper.start();
            byte[] output;
            try (InputStream stdout = process.getInputStream()) {
                output = stdout.readAllBytes();
            }
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new PSQLException("pam_oauth2_token found no usable sign-in (run it once by hand)",
                                        PSQLState.CONNECTION_REJECTED);
            }
            return new String(output, StandardCharsets.US_ASCII).trim().toCharArray();
        } catch (IOException | InterruptedException e) {
            throw new PSQLException("cannot run pam_oauth2_token: " + e.getMessage(),
                                    PSQLState.CONNECTION_UNABLE_TO_CONNECT, e);
        }
    }
}
