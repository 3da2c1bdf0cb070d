// The configuration schema every function validates its bundled configuration with (zod).
export { ConfigSchema } from '../../functions/shared/config/schema.js';
