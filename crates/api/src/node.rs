//! [`NodeApi`]: what a node's agent asks of the server, as a trait, so that
//! the agent's logic (leases, fencing, secret delivery) runs the same against
//! the HTTPS client and against an in-process implementation in its tests.

use std::future::Future;
use std::pin::Pin;

use crate::client::{ClientError, HttpsClient};
use crate::endpoint::{Endpoint, ObjectRef};
use crate::nodes::{
    Heartbeat, IssuedNodeCertificate, LivenessReport, RenewCertificate, RenewRequest,
    ReportLiveness,
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

    /// `POST /v1/nodes/heartbeat`: the node is alive, and runs what
    /// `report` says.
    fn heartbeat<'a>(&'a self, report: &'a LivenessReport) -> ApiFuture<'a, Heartbeat>;

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

impl HttpsClient {
    /// The future of sending `endpoint`, boxed as the trait's methods return it.
    fn boxed<'a, E>(&'a self, endpoint: E) -> ApiFuture<'a, E::Answer>
    where
        E: Endpoint + Send + Sync + 'a,
        E::Answer: Send,
    {
        Box::pin(async move { self.send(&endpoint).await })
    }
}

impl NodeApi for HttpsClient {
    fn renew_certificate<'a>(
        &'a self,
        request: &'a RenewRequest,
    ) -> ApiFuture<'a, IssuedNodeCertificate> {
        self.boxed(RenewCertificate(request))
    }

    fn heartbeat<'a>(&'a self, report: &'a LivenessReport) -> ApiFuture<'a, Heartbeat> {
        self.boxed(ReportLiveness(report))
    }

    fn create_volume<'a>(&'a self, request: &'a CreateVolumeRequest) -> ApiFuture<'a, VolumeInfo> {
        self.boxed(CreateVolume(request))
    }

    fn volume<'a>(&'a self, name: &'a str) -> ApiFuture<'a, VolumeInfo> {
        self.boxed(ShowVolume(ObjectRef::named(name)))
    }

    fn list_volumes(&self) -> ApiFuture<'_, VolumeList> {
        self.boxed(ListVolumes { tenant: None })
    }

    fn remove_volume<'a>(&'a self, name: &'a str) -> ApiFuture<'a, VolumeInfo> {
        self.boxed(RemoveVolume(ObjectRef::named(name)))
    }

    fn acquire_volume<'a>(
        &'a self,
        name: &'a str,
        request: &'a LeaseRequest,
    ) -> ApiFuture<'a, Acquired> {
        self.boxed(AcquireVolume {
            name,
            body: request,
        })
    }

    fn renew_volume<'a>(
        &'a self,
        name: &'a str,
        request: &'a LeaseRequest,
    ) -> ApiFuture<'a, VolumeInfo> {
        self.boxed(RenewVolume {
            name,
            body: request,
        })
    }

    fn release_volume<'a>(
        &'a self,
        name: &'a str,
        request: &'a LeaseRequest,
    ) -> ApiFuture<'a, VolumeInfo> {
        self.boxed(ReleaseVolume {
            name,
            body: request,
        })
    }

    fn deliver_secret<'a>(
        &'a self,
        reference: &'a str,
        request: &'a DeliverRequest,
    ) -> ApiFuture<'a, SecretValue> {
        self.boxed(DeliverSecret {
            reference,
            body: request,
        })
    }
}
