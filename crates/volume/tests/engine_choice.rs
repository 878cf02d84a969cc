//! `--engine`: `auto` takes the kernel engine exactly where its probe (a
//! throwaway loop device and dm-crypt device, a key through the kernel
//! keyring, a read) works, and says why not elsewhere; the probe leaves
//! nothing behind. Runs on hosts with and without device-mapper alike (as
//! root); the kernel engine itself is tested in a VM (`tests/vm/run`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use volume::{EngineChoice, EngineKind, VolumeError};

#[test]
fn auto_takes_the_kernel_engine_exactly_where_its_probe_works() {
    let scratch = tempfile::tempdir().unwrap();
    let kernel = EngineChoice::Kernel.decide(scratch.path());
    let auto = EngineChoice::Auto.decide(scratch.path()).unwrap();
    match &kernel {
        Ok(decision) => {
            assert_eq!(decision.kind, EngineKind::Kernel);
            assert!(
                decision
                    .reason
                    .starts_with("--engine kernel: device-mapper "),
                "{}",
                decision.reason
            );
            assert_eq!(auto.kind, EngineKind::Kernel, "{}", auto.reason);
            assert!(auto.reason.contains("dm-crypt"), "{}", auto.reason);
        }
        Err(error) => {
            let VolumeError::KernelEngine(why) = error else {
                panic!("not the kernel engine's refusal: {error:?}");
            };
            assert!(
                error.to_string().contains("use --engine auto or user"),
                "{error}"
            );
            assert_eq!(auto.kind, EngineKind::User);
            let why = volume::engine::chain(why.as_ref());
            assert!(
                auto.reason
                    .starts_with("--engine auto: the kernel engine does not work here")
                    && auto.reason.contains(&why),
                "auto says {:?}, the probe said {why:?}",
                auto.reason
            );
        }
    }
    let user = EngineChoice::User.decide(scratch.path()).unwrap();
    assert_eq!(user.kind, EngineKind::User);
    assert_eq!(user.reason, "--engine user");
    // Nothing of the probes is left here: no image, no device node. (That
    // no probe device is left in the kernel is checked in the VM.)
    let left: Vec<_> = std::fs::read_dir(scratch.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn rejects_unknown_engines() {
    for good in ["auto", "kernel", "user"] {
        assert!(good.parse::<EngineChoice>().is_ok(), "{good}");
    }
    for bad in ["", "Kernel", "dm-crypt", "fuse"] {
        let error = bad.parse::<EngineChoice>().unwrap_err();
        assert!(
            error.to_string().contains("use auto, kernel or user"),
            "{error}"
        );
    }
}
