// The slices of the API's bodies (openapi.yaml) that the console reads.

export interface Algorithm {
  id: string;
  name: string;
  details: { label: string; summary: string; tagline: string };
  settings: { algorithm_callability: 'public' | 'private'; language: string; insights_enabled: boolean };
  version_info?: AlgorithmVersionInfo;
  build?: Build;
  compilation?: { successful: boolean; output?: string };
}

export interface AlgorithmVersionInfo {
  semantic_version?: string;
  git_hash: string;
  release_notes?: string;
  sample_input?: string | null;
  insights_enabled: boolean;
  published_at?: string;
}

export interface Build {
  build_id: string;
  status: 'in-progress' | 'succeeded' | 'failed';
  commit_sha: string;
  started_at: string;
  finished_at: string | null;
  version_info?: { semantic_version: string };
}

export interface Version extends Algorithm {
  version_info: AlgorithmVersionInfo;
  build: Build;
}

export interface Paged<T> {
  marker: string | null;
  results: T[];
}

export interface SourceTree {
  language: string;
  entry_point: string;
  updated_at: string;
  files: Record<string, string>;
}
