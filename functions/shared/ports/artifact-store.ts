/** Plans and deployment records as documents (S3 on AWS, a folder locally). */
export interface ArtifactStore {
  put(key: string, body: string, contentType: string): Promise<void>;
  get(key: string): Promise<string | undefined>;
  /** Where a person can read the document (a console link locally, an S3 URL or console path on AWS). */
  link(key: string): string;
}
