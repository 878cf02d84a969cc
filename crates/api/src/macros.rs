//! The declarative macro that turns a line per endpoint into its call type
//! and [`Endpoint`](crate::endpoint::Endpoint) impl.

/// Declares endpoints: for each, a struct for the call and its [`Endpoint`](crate::endpoint::Endpoint)
/// impl. The forms, by what a call carries:
///
/// - `Name: METHOD PATTERN => Answer;` nothing;
/// - `Name(body Body): ...;` a JSON body;
/// - `Name(object): ...;` an object by id or name ([`ObjectRef`](crate::endpoint::ObjectRef)), its
///   tenant in the query;
/// - `Name { field }: ...;` one path parameter;
/// - `Name { field, body: Body }: ...;` one path parameter and a JSON body;
/// - `Name(tenant): ...;` a list of one tenant, or of every tenant of the
///   caller, in the query.
///
/// Flags after the answer, each after a comma: `public` marks a call made
/// as nobody (the seal routes, join); `per_server` one about the server it
/// reaches, which a client of several servers never moves to another (its
/// seal, its status).
macro_rules! endpoints {
    () => {};
    (@flag public) => {
        const AUTHENTICATED: bool = false;
    };
    (@flag per_server) => {
        const PER_SERVER: bool = true;
    };
    ($(#[$meta:meta])* $name:ident(tenant): $method:ident $pattern:path => $answer:ty; $($rest:tt)*) => {
        $(#[$meta])*
        pub struct $name<'a> {
            /// Only this tenant [default: every tenant of the caller].
            pub tenant: Option<&'a str>,
        }

        impl $crate::endpoint::Endpoint for $name<'_> {
            type Answer = $answer;

            fn request(&self) -> Result<$crate::endpoint::Request, $crate::endpoint::RequestError> {
                Ok(
                    $crate::endpoint::Request::to($crate::endpoint::Method::$method, $pattern, &[])?
                        .with_query(
                            $crate::endpoint::Query::new()
                                .optional("tenant", self.tenant)
                                .pairs(),
                        ),
                )
            }
        }

        endpoints!($($rest)*);
    };
    ($(#[$meta:meta])* $name:ident: $method:ident $pattern:path => $answer:ty $(, $flag:ident)*; $($rest:tt)*) => {
        $(#[$meta])*
        pub struct $name;

        impl $crate::endpoint::Endpoint for $name {
            type Answer = $answer;
            $(endpoints!(@flag $flag);)*

            fn request(&self) -> Result<$crate::endpoint::Request, $crate::endpoint::RequestError> {
                $crate::endpoint::Request::to($crate::endpoint::Method::$method, $pattern, &[])
            }
        }

        endpoints!($($rest)*);
    };
    ($(#[$meta:meta])* $name:ident(body $body:ty): $method:ident $pattern:path => $answer:ty $(, $flag:ident)*; $($rest:tt)*) => {
        $(#[$meta])*
        pub struct $name<'a>(pub &'a $body);

        impl $crate::endpoint::Endpoint for $name<'_> {
            type Answer = $answer;
            $(endpoints!(@flag $flag);)*

            fn request(&self) -> Result<$crate::endpoint::Request, $crate::endpoint::RequestError> {
                $crate::endpoint::Request::to($crate::endpoint::Method::$method, $pattern, &[])?
                    .with_json(self.0)
            }
        }

        endpoints!($($rest)*);
    };
    ($(#[$meta:meta])* $name:ident(object): $method:ident $pattern:path => $answer:ty; $($rest:tt)*) => {
        $(#[$meta])*
        pub struct $name<'a>(pub $crate::endpoint::ObjectRef<'a>);

        impl $crate::endpoint::Endpoint for $name<'_> {
            type Answer = $answer;

            fn request(&self) -> Result<$crate::endpoint::Request, $crate::endpoint::RequestError> {
                self.0.request($crate::endpoint::Method::$method, $pattern, None)
            }
        }

        endpoints!($($rest)*);
    };
    ($(#[$meta:meta])* $name:ident { $field:ident }: $method:ident $pattern:path => $answer:ty; $($rest:tt)*) => {
        $(#[$meta])*
        pub struct $name<'a> {
            #[doc = concat!("The path's `", stringify!($field), "`.")]
            pub $field: &'a str,
        }

        impl $crate::endpoint::Endpoint for $name<'_> {
            type Answer = $answer;

            fn request(&self) -> Result<$crate::endpoint::Request, $crate::endpoint::RequestError> {
                $crate::endpoint::Request::to($crate::endpoint::Method::$method, $pattern, &[self.$field])
            }
        }

        endpoints!($($rest)*);
    };
    ($(#[$meta:meta])* $name:ident { $field:ident, body: $body:ty }: $method:ident $pattern:path => $answer:ty; $($rest:tt)*) => {
        $(#[$meta])*
        pub struct $name<'a> {
            #[doc = concat!("The path's `", stringify!($field), "`.")]
            pub $field: &'a str,
            /// The JSON body.
            pub body: &'a $body,
        }

        impl $crate::endpoint::Endpoint for $name<'_> {
            type Answer = $answer;

            fn request(&self) -> Result<$crate::endpoint::Request, $crate::endpoint::RequestError> {
                $crate::endpoint::Request::to($crate::endpoint::Method::$method, $pattern, &[self.$field])?
                    .with_json(self.body)
            }
        }

        endpoints!($($rest)*);
    };
}
