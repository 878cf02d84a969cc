//! [`NodeApi`]: what a node's agent asks of the server, as a trait, so that
//! the agent's logic (leases, fencing, secret delivery) runs the same against
//! the HTTPS client and against an in-process implementation in its tests.

use std::future::Future;
use std::pin::Pin;

use crate::client::{ClientError, HttpsClient};
use crate::endpoint::ObjectRef;
use crate::nodes::{
    Heartbeat, IssuedNodeCertificate, RenewCertificate, RenewRequest, ReportLiveness,
};
use crate::secrets::{DeliverRequest, DeliverSecret, SecretValue};
use crate::volumes::{
    AcquireVolume, Acquired, CreateVolume, CreateVolumeRequest, LeaseRequest, ListVolumes,
    ReleaseVolume, RemoveVolume, RenewVolume, ShowVolume, VolumeInfo, VolumeList,
};

/// The future of one call.
pub type ApiFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ClientError>> + Send + 'a>>;

/// The calls a node makes, with its certificate, in its own tenant.
pub trait NodeApi: Send + Sync {
    /// `POST /v1/nodes/renew`: a new certificate for a new key.
    fn renew_certificate<'a>(
        &'a self,
        request: &'a RenewRequest,
    ) -> ApiFuture<'a, IssuedNodeCertificate>;

    /// `POST /v1/nodes/heartbeat`: the node is alive.
    fn heartbeat(&self) -> ApiFuture<'_, Heartbeat>;

    /// `POST /v1/volumes`.
    fn create_volume<'a>(&'a self, request: &'a CreateVolumeRequest) -> ApiFuture<'a, VolumeInfo>;

    /// `GET /v1/volumes/{name}`.
    fn volume<'a>(&'a self, name: &'a str) -> ApiFuture<'a, VolumeInfo>;

    /// `GET /v1/volumes`.
    fn list_volumes(&self) -> ApiFuture<'_, VolumeList>;

    /// `DELETE /v1/volumes/{name}`: the key is destroyed.
    fn remove_volume<'a>(&'a self, name: &'a str) -> ApiFuture<'a, VolumeInfo>;

    /// `POST /v1/volumes/{name}/acquire`: the lease and the volume's secret,
    /// when the policies allow every workload named.
    fn acquire_volume<'a>(
        &'a self,
        name: &'a str,
        request: &'a LeaseRequest,
    ) -> ApiFuture<'a, Acquired>;

    /// `POST /v1/volumes/{name}/renew`.
    fn renew_volume<'a>(
        &'a self,
        name: &'a str,
        request: &'a LeaseRequest,
    ) -> ApiFuture<'a, VolumeInfo>;

    /// `POST /v1/volumes/{name}/release`.
    fn release_volume<'a>(
        &'a self,
        name: &'a str,
        request: &'a LeaseRequest,
    ) -> ApiFuture<'a, VolumeInfo>;

    /// `POST /v1/secrets/{ref}/deliver`: a secret's value for the workloads
    /// named, when the policies allow every one.
    fn deliver_secret<'a>(
        &'a self,
        reference: &'a str,
        request: &'a DeliverRequest,
    ) -> ApiFuture<'a, SecretValue>;
}

impl NodeApi for HttpsClient {
    fn renew_certificate<'a>(
        &'a self,
        request: &'a RenewRequest,
    ) -> ApiFuture<'a, IssuedNodeCertificate> {
        Box::pin(async move { self.send(&RenewCertificate(request)).await })
    }

    fn heartbeat(&self) -> ApiFuture<'_, Heartbeat> {
        Box::pin(async move { self.send(&ReportLiveness).await })
    }

    fn create_volume<'a>(&'a self, request: &'a CreateVolumeRequest) -> ApiFuture<'a, VolumeInfo> {
        Box::pin(async move { self.send(&CreateVolume(request)).await })
    }

    fn volume<'a>(&'a self, name: &'a str) -> ApiFuture<'a, VolumeInfo> {
        Box::pin(async move { self.send(&ShowVolume(ObjectRef::named(name))).await })
    }

    fn list_volumes(&self) -> ApiFuture<'_, VolumeList> {
        Box::pin(async move { self.send(&ListVolumes { tenant: None }).await })
    }

    fn remove_volume<'a>(&'a self, name: &'a str) -> ApiFuture<'a, VolumeInfo> {
        Box::pin(async move { self.send(&RemoveVolume(ObjectRef::named(name))).await })
    }

    fn acquire_volume<'a>(
        &'a self,
        name: &'a str,
        request: &'a LeaseRequest,
    ) -> ApiFuture<'a, Acquired> {
        Box::pin(async move {
            self.send(&AcquireVolume {
                name,
                body: request,
            })
            .await
        })
    }

    fn renew_volume<'a>(
        &'a self,
        name: &'a str,
        request: &'a LeaseRequest,
    ) -> ApiFuture<'a, VolumeInfo> {
        Box::pin(async move {
            self.send(&RenewVolume {
                name,
                body: request,
            })
            .await
        })
    }

    fn release_volume<'a>(
        &'a self,
        name: &'a str,
        request: &'a LeaseRequest,
    ) -> ApiFuture<'a, VolumeInfo> {
        Box::pin(async move {
            self.send(&ReleaseVolume {
                name,
                body: request,
            })
            .await
        })
    }

    fn deliver_secret<'a>(
        &'a self,
        reference: &'a str,
        request: &'a DeliverRequest,
    ) -> ApiFuture<'a, SecretValue> {
        Box::pin(async move {
            self.send(&DeliverSecret {
                reference,
                body: request,
            })
            .await
        })
    }
}
