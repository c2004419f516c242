import { X509Certificate } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import Joi from 'joi';
import { CONNECTION_TYPES, SASL_MECHANISMS } from './connection';

// Input rules for the admin connection route. Everything a broker would refuse later is refused
// here with a 400, so a bad POST never replaces a working connection.

const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;
const MAX_BROKERS = 50;

/** Explains what is wrong with one `host:port`, or returns undefined when it is fine. */
export function brokerAddressProblem(entry: string): string | undefined {
  const m = /^(\[[^\]]*\]|[^:[\]]+):(\d{1,5})$/.exec(entry);
  if (!m) return `'${entry}' is not host:port (IPv6 addresses go in brackets: [::1]:9092)`;
  const [, host, portText] = m;
  const port = Number(portText);
  if (port < 1 || port > 65535) return `'${entry}' has port ${portText}; ports are 1 to 65535`;
  if (host.startsWith('[')) return isIPv6(host.slice(1, -1)) ? undefined : `'${host}' is not an IPv6 address`;
  if (/^[0-9.]+$/.test(host)) return isIPv4(host) ? undefined : `'${host}' is not an IPv4 address`;
  return HOSTNAME.test(host) ? undefined : `'${host}' is not a valid host name`;
}

/** Kafka's own rule (org.apache.kafka.common.internals.Topic.validate). */
export function topicProblem(topic: string): string | undefined {
  if (topic === '.' || topic === '..') return `topic may not be '.' or '..'`;
  if (topic.length > 249) return 'topic may have at most 249 characters';
  if (!/^[a-zA-Z0-9._-]+$/.test(topic)) return 'topic may contain only ASCII letters, digits, ., _ and -';
  return undefined;
}

/** Parses every certificate in a PEM bundle; refuses private keys and text that is not a certificate. */
export function caCertificateProblem(pem: string): string | undefined {
  const labels = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((m) => m[1]);
  if (labels.some((l) => l.includes('PRIVATE KEY'))) return 'ca_certificate contains a private key; send only the CA certificate(s)';
  if (labels.some((l) => l !== 'CERTIFICATE')) return 'ca_certificate contains PEM blocks that are not certificates';
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0 || blocks.length !== labels.length) {
    return 'ca_certificate is not a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)';
  }
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `certificate ${i + 1} in ca_certificate does not parse: ${(err as Error).message}`;
    }
  }
  return undefined;
}

const brokerUrl = Joi.string()
  .trim()
  .max(4096)
  .custom((value: string, helpers) => {
    const entries = value.split(',').map((e) => e.trim());
    if (entries.some((e) => e === '')) return helpers.message({ custom: "'broker_url' has an empty entry; use host1:port1,host2:port2" });
    if (entries.length > MAX_BROKERS) return helpers.message({ custom: `'broker_url' may list at most ${MAX_BROKERS} brokers` });
    for (const e of entries) {
      const problem = brokerAddressProblem(e);
      if (problem) return helpers.message({ custom: `'broker_url': ${problem}` });
    }
    return entries.join(',');
  });

const topic = Joi.string().custom((value: string, helpers) => {
  const problem = topicProblem(value);
  return problem ? helpers.message({ custom: `'topic': ${problem}` }) : value;
});

const caCertificate = Joi.string()
  .max(64 * 1024)
  .custom((value: string, helpers) => {
    const problem = caCertificateProblem(value);
    return problem ? helpers.message({ custom: problem }) : value;
  });

const sasl = Joi.valid('kafka_sasl_ssl', 'kafka_sasl_plaintext');
const notUsed = (field: string, type: string) => ({ 'any.unknown': `'${field}' is not used by ${type}` });

/** POST /v1/admin/insights-connection. Unknown fields are refused, so a typo never goes unnoticed. */
export const connectionBody = Joi.object({
  id: Joi.string().guid(),
  connection_type: Joi.string()
    .valid(...CONNECTION_TYPES)
    .required(),
  broker_url: brokerUrl.required(),
  topic: topic.required(),
  broker_username: Joi.string().max(255).when('connection_type', {
    is: sasl,
    then: Joi.required(),
    otherwise: Joi.forbidden().messages(notUsed('broker_username', 'kafka_unauthenticated_plaintext')),
  }),
  broker_password: Joi.string().max(1024).when('connection_type', {
    is: sasl,
    then: Joi.required(),
    otherwise: Joi.forbidden().messages(notUsed('broker_password', 'kafka_unauthenticated_plaintext')),
  }),
  sasl_mechanism: Joi.string()
    .uppercase()
    .valid(...SASL_MECHANISMS)
    .when('connection_type', {
      is: sasl,
      then: Joi.required(),
      otherwise: Joi.forbidden().messages(notUsed('sasl_mechanism', 'kafka_unauthenticated_plaintext')),
    }),
  // Optional for TLS: without it the system's CAs verify the broker (public-CA clusters).
  ca_certificate: caCertificate.when('connection_type', {
    is: 'kafka_sasl_ssl',
    otherwise: Joi.forbidden().messages({ 'any.unknown': "'ca_certificate' is only used by kafka_sasl_ssl (TLS)" }),
  }),
});

/** POST /v1/admin/insights-connection/test: an empty body tests the stored connection. */
export const testBody = Joi.alternatives().conditional('.', {
  is: Joi.object().length(0),
  then: Joi.object().length(0),
  otherwise: connectionBody,
});

export interface ConnectionBody {
  id?: string;
  connection_type: (typeof CONNECTION_TYPES)[number];
  broker_url: string;
  topic: string;
  broker_username?: string;
  broker_password?: string;
  sasl_mechanism?: (typeof SASL_MECHANISMS)[number];
  ca_certificate?: string;
}
