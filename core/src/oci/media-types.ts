// OCI image-spec media types (v1.1) and the docker types `docker load` writes for itself. One place, so
// every writer names blobs the same way.
export const MEDIA_TYPES = {
  imageIndex: 'application/vnd.oci.image.index.v1+json',
  imageManifest: 'application/vnd.oci.image.manifest.v1+json',
  imageConfig: 'application/vnd.oci.image.config.v1+json',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
  layerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** OCI layout version written to `oci-layout`. */
export const OCI_LAYOUT_VERSION = '1.0.0';

/** Annotation that names a manifest inside an OCI layout's index.json (what `dir:tag` selects). */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
