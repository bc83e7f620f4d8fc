// Docker's auth config: what X-Registry-Auth and the POST /auth body carry, keys as the clients
// send them (lowercase, absent ones omitted). Here so that the CLI (which writes it) and the
// registry client (which reads it) share one type without importing each other.
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}
