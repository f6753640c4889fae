// node-postgres with pam_oauth2: the password is an async function, called for every new
// connection, so a pool never reuses an expired token. pam_oauth2_token answers from the kept
// sign-in (run it once by hand to sign in); --no-prompt makes a missing sign-in an error instead of
// a device-flow prompt nobody sees. Host, port, user and database come from PGHOST, PGPORT, PGUSER
// and PGDATABASE, or from the object below.
const { execFile } = require('node:child_process');
const { promisify } = require('node:util');
const { Pool } = require('pg');

const run = promisify(execFile);

async function accessToken() {
  const { stdout } = await run('pam_oauth2_token', ['-p', process.env.PAM_OAUTH2_PROFILE || 'prod', '--no-prompt']);
  return stdout.trim();
}

const pool = new Pool({ password: accessToken, max: 4 });

async function main() {
  const { rows } = await pool.query('select current_user as who');
  console.log(rows[0].who);
  await pool.end();
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
