// Connects with pgjdbc to the URL given (docs/clients/PamOauth2TokenPlugin.java supplies the
// password) and prints current_user; the exception's message and exit status 1 on failure.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;

public class JdbcLogin {
    public static void main(String[] args) {
        try (Connection connection = DriverManager.getConnection(args[0]);
             ResultSet row = connection.createStatement().executeQuery("select current_user")) {
            row.next();
            System.out.println(row.getString(1));
        } catch (Exception e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
    }
}
