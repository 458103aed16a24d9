// What Ceph's CLI says when it cannot reach a cluster, in one line that names what to fix. Its own words name
// neither the configuration it could not read (`ObjectNotFound(... conf_read_file)` from `ceph`) nor, in the last
// line, the keyring it looked for; the lines before do. Messages as Ceph 16 and 19's `ceph` and `rbd` print them.

/** Where the tools looked, as the failure names it: the configuration given, else $CEPH_CONF, else Ceph's default. */
export interface CephClient {
  id?: string;
  conf?: string;
}

const DEFAULT_CONF = "/etc/ceph/ceph.conf";

/** The failure's cause in one line, or undefined when it is not one of the connection failures known here. */
export function cephConnectionFailure(stderr: string, client: CephClient): string | undefined {
  const user = `client.${client.id ?? "admin"}`;
  const conf = client.conf ?? process.env.CEPH_CONF ?? DEFAULT_CONF;
  if (/conf_read_file|unable to open config file/.test(stderr))
    return `cannot read the Ceph configuration ${conf}: no such file (give conf=PATH, or set CEPH_CONF)`;
  const keyring =
    /no keyring found at (\S+?),? /.exec(stderr)?.[1] ?? /unable to find a keyring on ([^:\s]+)/.exec(stderr)?.[1];
  if (keyring)
    return `no keyring for ${user}: Ceph looked for ${keyring} (a configuration's keyrings are named after its file, $cluster.$name.keyring: set "keyring = PATH" in ${conf})`;
  if (
    /handle_auth_bad_method|permission denied \(error connecting|\(13\) Permission denied|Operation not permitted/i.test(
      stderr,
    )
  )
    return `the monitors refused ${user}: its key in the keyring is not the cluster's, or its caps do not allow this (ceph auth get ${user})`;
  if (/\(110\) Connection timed out|error connecting to the cluster: \(?110|timed out/i.test(stderr))
    return `no monitor of ${conf} answered: is the cluster up, and "mon host" right?`;
  return undefined;
}
