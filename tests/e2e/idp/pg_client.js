// Connects with node-postgres (no libpq) using PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD and
// prints current_user; exits non-zero with the server's message on failure.
import pg from 'pg';

const client = new pg.Client();
try {
  await client.connect();
  const { rows } = await client.query('select current_user as who');
  console.log(rows[0].who);
  await client.end();
} catch (error) {
  console.error(error.message);
  process.exit(1);
}
