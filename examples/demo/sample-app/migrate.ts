/**
 * The demo's "database migration": the sample app keeps no database, so this prints what a real migration tool
 * would report for the release's additive change. Additive changes stay in place on rollback (keep_database).
 */
const release = process.argv[2] ?? 'unknown';
process.stdout.write(
  `applied 0042_add_notification_preferences for ${release} (additive: new table notification_preferences, new nullable column users.digest_frequency)\n`,
);
